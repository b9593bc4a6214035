// Package store persists jitgate's state behind one interface: requests,
// decisions, grants, live-session records, temporary credentials, the audit
// event chain and the webhook outbox. The embedded default is SQLite through
// a pure-Go driver; a PostgreSQL implementation can follow because callers
// see only the Store interface and the record types here. The store holds
// no policy: the approval package decides, the store remembers.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a record with the given id does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when an update lost a race: the record changed
// since it was read (its Version no longer matches).
var ErrConflict = errors.New("store: conflict")

// Store is the persistence interface. Every method is safe for concurrent
// use. Update runs fn in one transaction; the Tx passed to fn must not be
// used after fn returns.
type Store interface {
	Reader
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Changes returns a channel that receives a value after each committed
	// Update that wrote something, for waiters that re-read state. The
	// channel has a buffer of one and drops values when full, so readers
	// must re-check state. An Update that only read signals nothing, so a
	// waiter that reacts with a read-only Update does not wake itself.
	// cancel stops delivery and may be called more than once; it does not
	// close the channel.
	Changes() (ch <-chan struct{}, cancel func())
	Close() error
}

// Reader holds the read methods, usable inside and outside a transaction.
// Single-record reads return an error wrapping ErrNotFound when the record
// does not exist. Requests, Grants, Sessions and Credentials list the newest
// record (highest ID) first.
type Reader interface {
	Request(ctx context.Context, id int64) (*Request, error)
	Requests(ctx context.Context, f RequestFilter) ([]*Request, error)
	Decisions(ctx context.Context, requestID int64) ([]*Decision, error)
	Grant(ctx context.Context, id int64) (*Grant, error)
	GrantByRequest(ctx context.Context, requestID int64) (*Grant, error)
	Grants(ctx context.Context, f GrantFilter) ([]*Grant, error)
	Session(ctx context.Context, id int64) (*Session, error)
	Sessions(ctx context.Context, f SessionFilter) ([]*Session, error)
	// LastEvent returns the newest audit event, or ErrNotFound when the
	// log is empty.
	LastEvent(ctx context.Context) (*Event, error)
	// Events calls fn for each event with Seq in [f.AfterSeq+1, ...] and
	// Time in [f.Since, f.Until), oldest first, until fn returns an error,
	// which Events then returns unchanged.
	Events(ctx context.Context, f EventFilter, fn func(*Event) error) error
	Credentials(ctx context.Context, f CredentialFilter) ([]*Credential, error)
}

// Tx is a transaction: reads see its own writes.
type Tx interface {
	Reader
	// CreateRequest inserts r and sets r.ID, r.Version.
	CreateRequest(ctx context.Context, r *Request) error
	// UpdateRequest writes r when r.Version matches the stored one and
	// increments it; otherwise it returns ErrConflict (ErrNotFound when no
	// request has r.ID). UpdateGrant works the same way.
	UpdateRequest(ctx context.Context, r *Request) error
	AddDecision(ctx context.Context, d *Decision) error
	CreateGrant(ctx context.Context, g *Grant) error
	UpdateGrant(ctx context.Context, g *Grant) error
	CreateSession(ctx context.Context, s *Session) error
	UpdateSession(ctx context.Context, s *Session) error
	// AppendEvent inserts e as the next link; the caller (package audit)
	// has set e.PrevHash and e.Hash. A zero e.Seq is set to the last Seq
	// plus one. Any other e.Seq must be exactly that value, or AppendEvent
	// returns ErrConflict, so Seq values run from 1 without gaps. There is
	// no method to change or remove an event.
	AppendEvent(ctx context.Context, e *Event) error
	CreateCredential(ctx context.Context, c *Credential) error
	UpdateCredential(ctx context.Context, c *Credential) error
	// EnqueueOutbox stores webhook deliveries for the notifier and sets
	// each item's ID.
	EnqueueOutbox(ctx context.Context, items []*OutboxItem) error
	// DueOutbox returns up to limit items with NextAt at or before now,
	// earliest NextAt first, and a limit of zero or less means no limit. It
	// is on Tx, not Reader, so the notifier reads the items and updates or
	// deletes them in one transaction. A store shared by several replicas
	// must lock the returned rows until that transaction ends, so no two
	// replicas send the same item.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error)
	// UpdateOutbox writes every field of item but ID, as after a failed
	// delivery (Attempts, NextAt, LastError).
	UpdateOutbox(ctx context.Context, item *OutboxItem) error
	// DeleteOutbox removes a delivered item.
	DeleteOutbox(ctx context.Context, id int64) error
}

// RequestState is where a request is in its life.
type RequestState string

const (
	RequestPending   RequestState = "pending"
	RequestApproved  RequestState = "approved" // a grant exists
	RequestDenied    RequestState = "denied"
	RequestExpired   RequestState = "expired" // pending TTL ran out
	RequestCancelled RequestState = "cancelled"
)

// Request is one ask for access.
type Request struct {
	ID        int64
	Version   int64
	State     RequestState
	Requester string
	// Kind is "ssh" or "postgres"; Target is the target name; Principal is
	// the SSH login or the Postgres role.
	Kind       string
	Target     string
	Principal  string
	Duration   time.Duration // requested window length
	Trigger    string
	Reason     string
	Ticket     string
	ContractID string
	// ContractVersion and ContractHash pin the terms the request was made
	// under; a grant carries the same hash.
	ContractVersion int
	ContractHash    string
	BreakGlass      bool
	// Stage is the index of the approval stage now open.
	Stage     int
	CreatedAt time.Time
	// ExpiresAt is when the request lapses if still pending.
	ExpiresAt time.Time
	DecidedAt time.Time // zero while pending
	// Closer and CloseReason name who ended a request that did not become a
	// grant (denier, canceller) and why.
	Closer      string
	CloseReason string
}

// RequestFilter selects requests; zero fields match anything. A Limit of
// zero or less means no limit; the same holds in the other filters.
type RequestFilter struct {
	States    []RequestState
	Requester string
	Kind      string
	Target    string
	Principal string
	Limit     int
}

// DecisionVerdict is an approver's answer.
type DecisionVerdict string

const (
	VerdictApprove DecisionVerdict = "approve"
	VerdictDeny    DecisionVerdict = "deny"
	// VerdictReview is a break-glass post-review.
	VerdictReview DecisionVerdict = "review"
)

// Decision is one approver's answer to a request.
type Decision struct {
	ID        int64
	RequestID int64
	Approver  string
	Verdict   DecisionVerdict
	Stage     int
	Comment   string
	// MaxDuration is the approver's cap on the window; 0 means no cap.
	MaxDuration time.Duration
	At          time.Time
}

// GrantState is where a grant is in its life.
type GrantState string

const (
	GrantActive  GrantState = "active"
	GrantRevoked GrantState = "revoked"
	GrantEnded   GrantState = "ended" // window over
)

// Grant is approved access with its window.
type Grant struct {
	ID        int64
	Version   int64
	RequestID int64
	State     GrantState
	Requester string
	Kind      string
	Target    string
	Principal string
	// Window is [Start, End). End only moves through extensions.
	Start time.Time
	End   time.Time
	// Extensions counts approved extensions; Extended is their total length.
	Extensions      int
	Extended        time.Duration
	MaxSessions     int
	ContractID      string
	ContractVersion int
	ContractHash    string
	BreakGlass      bool
	// ReviewDue is the deadline for a break-glass review; ReviewedBy and
	// ReviewedAt record it.
	ReviewDue  time.Time
	ReviewedBy string
	ReviewedAt time.Time
	// ClosedAt, Closer and CloseReason record revocation or the end.
	ClosedAt    time.Time
	Closer      string
	CloseReason string
}

// GrantFilter selects grants; zero fields match anything.
type GrantFilter struct {
	States    []GrantState
	Requester string
	Kind      string
	Target    string
	Principal string
	// ActiveAt, when set, keeps grants whose window contains that instant.
	ActiveAt time.Time
	Limit    int
}

// SessionState is where a live connection is in its life.
type SessionState string

const (
	SessionOpen   SessionState = "open"
	SessionClosed SessionState = "closed"
)

// Session is one proxied connection bound to a grant.
type Session struct {
	ID         int64
	GrantID    int64
	Kind       string // ssh or postgres
	Person     string
	Target     string
	Principal  string
	ClientAddr string
	State      SessionState
	StartedAt  time.Time
	EndedAt    time.Time
	// EndReason is why it closed: client, window-end, revoked, idle, error.
	EndReason string
	// Recording is the recording's location and RecordingHash its SHA-256,
	// both set when the recording is sealed.
	Recording     string
	RecordingHash string
}

// SessionFilter selects sessions.
type SessionFilter struct {
	GrantID int64
	States  []SessionState
	Person  string
	Limit   int
}

// Event is one link of the hash-chained audit log.
type Event struct {
	Seq       int64
	Time      time.Time
	Type      string // for example request.created, grant.revoked
	Actor     string
	RequestID int64
	GrantID   int64
	SessionID int64
	// Details is a JSON object with the event's own fields.
	Details  []byte
	PrevHash string
	Hash     string
}

// EventFilter selects events.
type EventFilter struct {
	AfterSeq  int64
	Since     time.Time
	Until     time.Time
	RequestID int64
	GrantID   int64
}

// CredentialState tracks a minted upstream credential.
type CredentialState string

const (
	CredentialLive    CredentialState = "live"
	CredentialRevoked CredentialState = "revoked"
)

// Credential is something minted upstream that must be cleaned up: a
// temporary Postgres role (SSH certificates expire by themselves and are
// recorded in the audit log instead).
type Credential struct {
	ID        int64
	GrantID   int64
	Kind      string // postgres-role
	Target    string
	Name      string // the role name
	State     CredentialState
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// CredentialFilter selects credentials.
type CredentialFilter struct {
	GrantID int64
	Target  string
	States  []CredentialState
}

// OutboxItem is one webhook delivery waiting to be sent.
type OutboxItem struct {
	ID        int64
	Endpoint  string
	EventType string
	Payload   []byte
	Attempts  int
	NextAt    time.Time
	CreatedAt time.Time
	LastError string
}
