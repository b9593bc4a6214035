// Package web is jitgate's HTTP side: the JSON API under /api/v1 that the
// CLI and scripts use, and the health endpoints /healthz and /readyz. The
// approval pages will share the same router.
//
// API calls authenticate with a bearer token (RFC 6750 section 2.1): the
// header "Authorization: Bearer <token>", where the token's SHA-256 is
// listed under the person in the config. Every error is a JSON body
// {"error":{"code":"...","message":"..."}} whose code is stable; see
// api_errors.go for the table of codes and statuses. Times are RFC 3339 in
// UTC and durations are Go duration strings such as "1h30m0s".
//
// Routes under /api/v1 (bodies are the *Body types in api_types.go):
//
//	POST /requests                 open a request, or join the pending one (201, or 200 when joined)
//	GET  /requests                 list: ?state=pending,approved &mine=true &limit=N
//	GET  /requests/{id}            one request with its decisions and grant
//	POST /requests/{id}/approve    vote yes: {"comment", "max_duration"}
//	POST /requests/{id}/deny       vote no: {"comment"}
//	POST /requests/{id}/cancel     withdraw one's own request: {"reason"}
//	GET  /requests/{id}/wait       long poll until decided: ?timeout=30s (at most 55s)
//	GET  /grants                   list: ?state=active &mine=true &limit=N
//	GET  /grants/{id}              one grant
//	POST /grants/{id}/revoke       end a grant now: {"reason"}
//	POST /grants/{id}/extend       move the end later: {"by", "reason"}
//	POST /grants/{id}/review       review a break-glass grant: {"comment"}
//	GET  /sessions                 list: ?state=open &mine=true &limit=N
//	GET  /audit/verify             check the hash chain
//	GET  /audit/export             stream events: ?since &until &format=jsonl|csv
//
// /healthz returns 200 while the process runs. /readyz returns 200 while
// the store responds to a read, and 503 otherwise. Neither needs a token.
//
// The package reads state through store.Reader and changes it only through
// the approval engine, so every rule and audit event stays in one place.
package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// Options configures the HTTP handler. Engine and Identity are required.
type Options struct {
	Engine   *approval.Engine
	Identity *identity.Static
	// Store is read for lists and details. Default: Engine.Store().
	Store store.Reader
	// Registry holds the live sessions of this process; nil means the
	// session list shows only what the store has.
	Registry *session.Registry
	// Config is the configuration in force. Default: Engine.Config().
	Config *configs.Config
	// Audit verifies and exports the audit chain for /api/v1/audit. Nil
	// turns those two endpoints off (they return 404).
	Audit AuditChain
	// Logger receives one line per HTTP request and every error that
	// becomes a 500. Default: slog.Default().
	Logger *slog.Logger
}

// New returns the handler for the API and health endpoints.
func New(opts Options) (http.Handler, error) {
	if opts.Engine == nil || opts.Identity == nil {
		return nil, errors.New("web: Options.Engine and Options.Identity are required")
	}
	if opts.Store == nil {
		opts.Store = opts.Engine.Store()
	}
	if opts.Config == nil {
		opts.Config = opts.Engine.Config()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	mux := http.NewServeMux()
	a := &api{opts: opts, log: opts.Logger}
	a.register(mux)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	return withRequestLog(opts.Logger, mux), nil
}
