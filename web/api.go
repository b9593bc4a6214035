package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/jitgate/jitgate/identity"
)

// apiPrefix is the root of the JSON API.
const apiPrefix = "/api/v1"

// api serves the JSON API.
type api struct {
	opts Options
	log  *slog.Logger
}

// call is one authenticated API call.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	person *identity.Person
	log    *slog.Logger // carries the HTTP request id and the person
}

// reply sends v as the JSON response with status.
func (c *call) reply(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

// register adds the API routes to mux. Patterns use the method and
// wildcard syntax of net/http (Go 1.22 and later).
func (a *api) register(mux *http.ServeMux) {
	routes := []struct {
		pattern string
		handle  func(*call) error
	}{
		{"POST /requests", a.createRequest},
		{"GET /requests", a.listRequests},
		{"GET /requests/{id}", a.showRequest},
		{"POST /requests/{id}/approve", a.approveRequest},
		{"POST /requests/{id}/deny", a.denyRequest},
		{"POST /requests/{id}/cancel", a.cancelRequest},
		{"GET /requests/{id}/wait", a.waitRequest},
		{"GET /grants", a.listGrants},
		{"GET /grants/{id}", a.showGrant},
		{"POST /grants/{id}/revoke", a.revokeGrant},
		{"POST /grants/{id}/extend", a.extendGrant},
		{"POST /grants/{id}/review", a.reviewGrant},
		{"GET /sessions", a.listSessions},
		{"GET /audit/verify", a.verifyAudit},
		{"GET /audit/export", a.exportAudit},
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.Handle(method+" "+apiPrefix+path, a.authenticated(rt.handle))
	}
	// Unknown API paths get a JSON 404 instead of the mux's plain text.
	mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, notFound("no API route %s %s; the routes are listed in the web package documentation", r.Method, r.URL.Path))
	})
}

// authenticated resolves the bearer token to a person, then runs h and
// turns its error into a JSON error body.
func (a *api) authenticated(h func(*call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		person, err := a.authenticate(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		noteOutcome(r).person = person.Name
		c := &call{w: w, r: r, person: person, log: requestLogger(r).With("person", person.Name)}
		if err := h(c); err != nil {
			writeError(w, r, err)
		}
	})
}

// authenticate checks the "Authorization: Bearer <token>" header (RFC 6750
// section 2.1). The token itself never reaches a log or an error message.
func (a *api) authenticate(r *http.Request) (*identity.Person, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, fail(http.StatusUnauthorized, codeUnauthn,
			"missing Authorization header; send \"Authorization: Bearer <token>\" (jitgate CLI: --token or JITGATE_TOKEN)")
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, fail(http.StatusUnauthorized, codeUnauthn,
			"the Authorization header must use the Bearer scheme: \"Authorization: Bearer <token>\"")
	}
	person, ok := a.opts.Identity.ByToken(strings.TrimSpace(token))
	if !ok {
		return nil, fail(http.StatusUnauthorized, codeUnauthn,
			"the API token matches no person; check the token, or list its hash (jitgate token hash) under api_tokens in the config")
	}
	return person, nil
}
