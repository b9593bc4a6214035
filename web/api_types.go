package web

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

// The types below are the JSON shapes of the API, shared by the server and
// the jitgate CLI. Time fields are UTC and left out when unset.

// CreateRequestBody is the body of POST /api/v1/requests.
type CreateRequestBody struct {
	Target string `json:"target"`
	// Kind is "ssh" or "postgres"; empty means the kind of the target list
	// that has Target.
	Kind string `json:"kind,omitempty"`
	// Principal is the SSH login or the Postgres role.
	Principal string `json:"principal"`
	// Duration is the window asked for, such as "30m" or "2h"; empty means
	// the contract's default.
	Duration   string `json:"duration,omitempty"`
	Trigger    string `json:"trigger,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Ticket     string `json:"ticket,omitempty"`
	Contract   string `json:"contract,omitempty"`
	BreakGlass bool   `json:"break_glass,omitempty"`
}

// DecideBody is the body of POST .../approve and .../deny. MaxDuration
// narrows the window and is allowed only on approve.
type DecideBody struct {
	Comment     string `json:"comment,omitempty"`
	MaxDuration string `json:"max_duration,omitempty"`
}

// ReasonBody is the body of POST .../cancel and .../revoke.
type ReasonBody struct {
	Reason string `json:"reason,omitempty"`
}

// ExtendBody is the body of POST /api/v1/grants/{id}/extend.
type ExtendBody struct {
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
}

// ReviewBody is the body of POST /api/v1/grants/{id}/review.
type ReviewBody struct {
	Comment string `json:"comment,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string.
// Decoding also accepts the d and w units of the config file.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a JSON string such as \"30m\": %w", err)
	}
	v, err := configs.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// RequestView is an access request.
type RequestView struct {
	ID              int64    `json:"id"`
	State           string   `json:"state"`
	Requester       string   `json:"requester"`
	Kind            string   `json:"kind"`
	Target          string   `json:"target"`
	Principal       string   `json:"principal"`
	Duration        Duration `json:"duration"`
	Trigger         string   `json:"trigger,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	Ticket          string   `json:"ticket,omitempty"`
	Contract        string   `json:"contract"`
	ContractVersion int      `json:"contract_version"`
	ContractHash    string   `json:"contract_hash"`
	BreakGlass      bool     `json:"break_glass,omitempty"`
	// Stage is the index of the approval stage now open.
	Stage       int       `json:"stage"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	Closer      string    `json:"closer,omitempty"`
	CloseReason string    `json:"close_reason,omitempty"`
	// URL is the approval page of the request.
	URL string `json:"url"`
	// Joined is set by POST /requests when the call joined a request that
	// was already pending for the same person, target and principal.
	Joined bool `json:"joined,omitempty"`
	// Decisions are listed by GET /requests/{id} and the decide calls.
	Decisions []DecisionView `json:"decisions,omitempty"`
	// Grant is set once the request is approved, on the calls that show one
	// request.
	Grant *GrantView `json:"grant,omitempty"`
}

// DecisionView is one approver's vote.
type DecisionView struct {
	Approver    string    `json:"approver"`
	Verdict     string    `json:"verdict"`
	Stage       int       `json:"stage"`
	Comment     string    `json:"comment,omitempty"`
	MaxDuration Duration  `json:"max_duration,omitzero"`
	At          time.Time `json:"at"`
}

// GrantView is approved access with its window [Start, End).
type GrantView struct {
	ID              int64     `json:"id"`
	RequestID       int64     `json:"request_id"`
	State           string    `json:"state"`
	Requester       string    `json:"requester"`
	Kind            string    `json:"kind"`
	Target          string    `json:"target"`
	Principal       string    `json:"principal"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Extensions      int       `json:"extensions"`
	Extended        Duration  `json:"extended"`
	MaxSessions     int       `json:"max_sessions"`
	Contract        string    `json:"contract"`
	ContractVersion int       `json:"contract_version"`
	ContractHash    string    `json:"contract_hash"`
	BreakGlass      bool      `json:"break_glass,omitempty"`
	ReviewDue       time.Time `json:"review_due,omitzero"`
	ReviewedBy      string    `json:"reviewed_by,omitempty"`
	ReviewedAt      time.Time `json:"reviewed_at,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	Closer          string    `json:"closer,omitempty"`
	CloseReason     string    `json:"close_reason,omitempty"`
}

// SessionView is one proxied connection.
type SessionView struct {
	ID            int64     `json:"id"`
	GrantID       int64     `json:"grant_id"`
	Kind          string    `json:"kind"`
	Person        string    `json:"person"`
	Target        string    `json:"target"`
	Principal     string    `json:"principal"`
	ClientAddr    string    `json:"client_addr,omitempty"`
	State         string    `json:"state"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at,omitzero"`
	EndReason     string    `json:"end_reason,omitempty"`
	Recording     string    `json:"recording,omitempty"`
	RecordingHash string    `json:"recording_hash,omitempty"`
	// Live is true when this server process is relaying the session now.
	Live bool `json:"live"`
}

// WaitView is the response body of GET /api/v1/requests/{id}/wait. Decided is
// false when the wait timed out with the request still pending.
type WaitView struct {
	Decided bool        `json:"decided"`
	Request RequestView `json:"request"`
}

// ListView wraps every list so fields can be added without breaking
// clients.
type ListView[T any] struct {
	Items []T `json:"items"`
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func requestView(r *store.Request, publicURL string) RequestView {
	return RequestView{
		ID: r.ID, State: string(r.State), Requester: r.Requester,
		Kind: r.Kind, Target: r.Target, Principal: r.Principal,
		Duration: Duration(r.Duration), Trigger: r.Trigger, Reason: r.Reason, Ticket: r.Ticket,
		Contract: r.ContractID, ContractVersion: r.ContractVersion, ContractHash: r.ContractHash,
		BreakGlass: r.BreakGlass, Stage: r.Stage,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), DecidedAt: utc(r.DecidedAt),
		Closer: r.Closer, CloseReason: r.CloseReason,
		URL: fmt.Sprintf("%s/requests/%d", publicURL, r.ID),
	}
}

func decisionView(d *store.Decision) DecisionView {
	return DecisionView{
		Approver: d.Approver, Verdict: string(d.Verdict), Stage: d.Stage, Comment: d.Comment,
		MaxDuration: Duration(d.MaxDuration), At: utc(d.At),
	}
}

func grantView(g *store.Grant) *GrantView {
	return &GrantView{
		ID: g.ID, RequestID: g.RequestID, State: string(g.State), Requester: g.Requester,
		Kind: g.Kind, Target: g.Target, Principal: g.Principal,
		Start: utc(g.Start), End: utc(g.End), Extensions: g.Extensions, Extended: Duration(g.Extended),
		MaxSessions: g.MaxSessions, Contract: g.ContractID, ContractVersion: g.ContractVersion,
		ContractHash: g.ContractHash, BreakGlass: g.BreakGlass,
		ReviewDue: utc(g.ReviewDue), ReviewedBy: g.ReviewedBy, ReviewedAt: utc(g.ReviewedAt),
		ClosedAt: utc(g.ClosedAt), Closer: g.Closer, CloseReason: g.CloseReason,
	}
}

func sessionView(s *store.Session, live bool) SessionView {
	return SessionView{
		ID: s.ID, GrantID: s.GrantID, Kind: s.Kind, Person: s.Person, Target: s.Target,
		Principal: s.Principal, ClientAddr: s.ClientAddr, State: string(s.State),
		StartedAt: utc(s.StartedAt), EndedAt: utc(s.EndedAt), EndReason: s.EndReason,
		Recording: s.Recording, RecordingHash: s.RecordingHash, Live: live,
	}
}
