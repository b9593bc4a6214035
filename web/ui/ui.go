package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// Options configures the pages. Engine and Identity are required.
type Options struct {
	Engine   *approval.Engine
	Identity *identity.Static
	// Store is read for lists and details. Default: Engine.Store().
	Store store.Reader
	// Registry lists the live sessions of this process on the grants page.
	// Nil means the page lists the sessions that the store has open.
	Registry *session.Registry
	// Config is the configuration in force. Default: Engine.Config().
	Config *configs.Config
	// Logger receives one line per HTTP request and every error that
	// becomes a 500. Default: slog.Default().
	Logger *slog.Logger
	// Clock measures sign-in lifetimes and relative times. Default:
	// Engine.Clock().
	Clock clock.Clock
}

// ui holds what every handler needs.
type ui struct {
	opts     Options
	cfg      *configs.Config
	store    store.Reader
	log      *slog.Logger
	clock    clock.Clock
	sessions *sessions
	limiter  *signInLimiter
	pages    *pages
}

// New returns the handler of the pages. Mount it for every path that the
// JSON API and the health endpoints do not take (see Mount).
func New(opts Options) (http.Handler, error) {
	if opts.Engine == nil || opts.Identity == nil {
		return nil, errors.New("ui: Options.Engine and Options.Identity are required")
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
	if opts.Clock == nil {
		opts.Clock = opts.Engine.Clock()
	}

	tmpl, err := parsePages(opts.Clock)
	if err != nil {
		return nil, err
	}
	u := &ui{
		opts: opts, cfg: opts.Config, store: opts.Store, log: opts.Logger, clock: opts.Clock,
		sessions: newSessions(opts.Clock),
		limiter:  newSignInLimiter(opts.Clock),
		pages:    tmpl,
	}
	crossOrigin, err := u.crossOriginProtection()
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	u.register(mux)
	return u.withRequestLog(securityHeaders(crossOrigin.Handler(mux))), nil
}

// register adds the routes listed in the package documentation.
func (u *ui) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/requests", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", u.loginForm)
	mux.HandleFunc("POST /login", u.login)
	mux.Handle("POST /logout", u.signedIn(u.logout))
	mux.Handle("GET /requests", u.signedIn(u.pendingPage))
	mux.Handle("GET /requests/{id}", u.signedIn(u.requestPage))
	mux.Handle("POST /requests/{id}/approve", u.signedIn(u.approve))
	mux.Handle("POST /requests/{id}/deny", u.signedIn(u.deny))
	mux.Handle("POST /requests/{id}/cancel", u.signedIn(u.cancel))
	mux.Handle("GET /requests/{id}/audit", u.signedIn(u.auditPage))
	mux.Handle("GET /grants", u.signedIn(u.grantsPage))
	mux.Handle("POST /grants/{id}/revoke", u.signedIn(u.revoke))
	mux.Handle("GET /events", u.signedIn(u.events))
	mux.HandleFunc("GET /static/{name}", serveStatic)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
	})
}
