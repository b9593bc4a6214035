package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// Engine is the part of the approval engine the front door uses;
// *approval.Engine implements it.
type Engine interface {
	Match(ctx context.Context, person, kind, target, principal string) (*store.Grant, error)
	Submit(ctx context.Context, ask approval.Ask) (*approval.Submitted, error)
	WaitDecision(ctx context.Context, id int64) (*store.Request, *store.Grant, error)
	Cancel(ctx context.Context, requestID int64, actor, reason string) (*store.Request, error)
	WaitGrant(ctx context.Context, id, version int64) (*store.Grant, error)
	RecordEvent(ctx context.Context, entry audit.Entry) error
}

// Sessions registers live sessions; *session.Registry implements it.
type Sessions interface {
	Open(ctx context.Context, s *store.Session, conn session.Conn) (*session.Live, error)
}

// Identity finds the person an API token belongs to; *identity.Static
// implements it.
type Identity interface {
	ByToken(token string) (*identity.Person, bool)
}

// Issuer mints temporary roles on one target and connects upstream;
// *credentials.PGIssuer implements it.
type Issuer interface {
	Mint(ctx context.Context, req credentials.MintRole) (*credentials.PGRole, error)
	Revoke(ctx context.Context, name string) error
	Sweep(ctx context.Context, keep func(name string) bool) ([]string, error)
	Connect(ctx context.Context, role *credentials.PGRole, database string, params map[string]string) (*pgconn.PgConn, error)
	Close() error
}
