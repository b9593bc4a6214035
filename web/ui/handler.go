package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jitgate/jitgate/identity"
)

// maxFormBytes bounds the body of every form POST. The largest field is a
// comment of at most maxTextLength characters.
const maxFormBytes = 64 << 10

// visit is one request from a signed-in person.
type visit struct {
	w      http.ResponseWriter
	r      *http.Request
	person *identity.Person
	signIn *signIn
	log    *slog.Logger // carries the HTTP request id and the person
}

type ctxKey int

const keyLogger ctxKey = iota

// withRequestLog gives each HTTP request an id and a logger that carries
// it, turns a handler panic into a 500, and logs one line per request with
// its status and duration. The query string is left out of the log line.
func (u *ui) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqLog := u.log.With("http_request", newRequestID())
		r = r.WithContext(context.WithValue(r.Context(), keyLogger, reqLog))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				reqLog.Error("page handler panicked", "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					http.Error(rec, "internal error; the server log has the details", http.StatusInternalServerError)
				}
			}
			reqLog.Info("http request", "method", r.Method, "path", r.URL.Path, "status", rec.code(),
				"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestLogger returns the logger of the HTTP request, which carries its id.
func (u *ui) requestLogger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return u.log
}

// signedIn runs h for a signed-in person. Without a valid sign-in, a page
// GET redirects to the sign-in form and comes back afterwards, while a
// POST, a list fragment or the event stream get 401. Every POST must also
// carry the sign-in's form token.
func (u *ui) signedIn(h func(*visit) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, person := u.currentSignIn(r)
		if s == nil {
			u.notSignedIn(w, r)
			return
		}
		v := &visit{w: w, r: r, person: person, signIn: s,
			log: u.requestLogger(r).With("person", person.Name)}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				v.log.Warn("form could not be read", "path", r.URL.Path, "err", err)
				u.renderError(w, r, http.StatusBadRequest,
					fmt.Sprintf("The form could not be read (%v). Reload the page and try again.", err))
				return
			}
			if !s.checkFormToken(r.PostFormValue(formTokenField)) {
				v.log.Warn("form token missing or wrong", "path", r.URL.Path)
				u.renderError(w, r, http.StatusForbidden,
					"This form is out of date or was sent from another site. Reload the page and try again.")
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		if err := h(v); err != nil {
			v.log.Error("page failed", "path", r.URL.Path, "err", err)
			u.renderError(w, r, http.StatusInternalServerError,
				"Something went wrong on the server. The server log has the details.")
		}
	})
}

// notSignedIn sends a page GET to the sign-in form with a way back.
func (u *ui) notSignedIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path == "/events" || r.URL.Query().Has("fragment") {
		u.renderError(w, r, http.StatusUnauthorized, "Sign in first.")
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// localPath returns next when it is a path on this site, and /requests
// otherwise, so the sign-in form cannot redirect to another site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/requests"
	}
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" {
		return "/requests"
	}
	return next
}

// redirect sends the browser to path after a successful POST.
func (v *visit) redirect(path string) error {
	http.Redirect(v.w, v.r, path, http.StatusSeeOther)
	return nil
}

// isTLS reports whether the browser reached the page over TLS, directly
// or, when public_url is https, through a proxy that ends TLS.
func (u *ui) isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(u.cfg.PublicURL, "https://")
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24 and later)
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status a handler wrote, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer,
// which the event stream needs.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
