package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// requestIDHeader carries the id of each HTTP request back to the client,
// so a user can quote it and an operator can find the log lines.
const requestIDHeader = "X-Request-Id"

type ctxKey int

const (
	keyLogger ctxKey = iota
	keyRequestID
	keyOutcome
)

// outcome collects what the request log line reports beyond the status:
// who called, set by authentication, and the error code, set by
// writeError. Only the goroutine that serves the request touches it.
type outcome struct {
	person string
	code   string
}

// withRequestLog gives each HTTP request an id and a logger that carries
// it, recovers from handler panics with a 500, and logs one line per
// request with its status and duration. The Authorization header and the
// query string are never logged.
func withRequestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		reqLog := log.With("http_request", id)
		ctx := context.WithValue(r.Context(), keyLogger, reqLog)
		ctx = context.WithValue(ctx, keyRequestID, id)
		out := &outcome{}
		ctx = context.WithValue(ctx, keyOutcome, out)
		w.Header().Set(requestIDHeader, id)

		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				reqLog.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, r.WithContext(ctx), errInternal)
				}
			}
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				level = slog.LevelDebug // probes arrive every few seconds
			}
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.code(),
				"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr}
			if out.person != "" {
				attrs = append(attrs, "person", out.person)
			}
			if out.code != "" {
				attrs = append(attrs, "error_code", out.code)
			}
			reqLog.Log(ctx, level, "http request", attrs...)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// requestLogger returns the logger of the HTTP request, which carries its id.
func requestLogger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// noteOutcome returns the outcome record of the HTTP request, or a
// throwaway one outside withRequestLog.
func noteOutcome(r *http.Request) *outcome {
	if o, ok := r.Context().Value(keyOutcome).(*outcome); ok {
		return o
	}
	return &outcome{}
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
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

// Unwrap lets http.ResponseController reach Flush on the real writer, which
// the streamed audit export needs.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
