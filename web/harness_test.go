package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/server"
	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

// harness is a real server assembly (SQLite in a temp folder, the approval
// engine, the handler) on a fake clock, served by httptest on loopback.
type harness struct {
	t     *testing.T
	srv   *server.Server
	url   string
	clock *clock.Fake
	logs  *lockedBuffer
	// hook, when set, is called as each HTTP request enters and leaves the
	// handler, so tests can tell when a long poll is in progress.
	mu   sync.Mutex
	hook func(r *http.Request, entering bool)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	h := &harness{t: t, clock: clock.NewFake(servertest.Start), logs: &lockedBuffer{}}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(context.Background(), cfg, server.Options{Clock: h.clock, Logger: log})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h.srv = srv
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.callHook(r, true)
		defer h.callHook(r, false)
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	h.url = hs.URL
	return h
}

func (h *harness) setHook(f func(r *http.Request, entering bool)) {
	h.mu.Lock()
	h.hook = f
	h.mu.Unlock()
}

func (h *harness) callHook(r *http.Request, entering bool) {
	h.mu.Lock()
	f := h.hook
	h.mu.Unlock()
	if f != nil {
		f(r, entering)
	}
}

// response is what the client got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a call as person (empty: no Authorization header). body is a
// raw string or a value to encode as JSON.
func (h *harness) do(ctx context.Context, method, path, person string, body any) response {
	h.t.Helper()
	auth := ""
	if person != "" {
		auth = "Bearer " + servertest.Token(person)
	}
	return h.doAuth(ctx, method, path, auth, body)
}

func (h *harness) doAuth(ctx context.Context, method, path, auth string, body any) response {
	h.t.Helper()
	var payload io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		payload = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("encoding %T: %v", body, err)
		}
		payload = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.url+path, payload)
	if err != nil {
		h.t.Fatalf("building %s %s: %v", method, path, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("reading the response to %s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// call sends a call and requires status, then decodes the body into out
// (when out is not nil).
func (h *harness) call(method, path, person string, body any, status int, out any) response {
	h.t.Helper()
	resp := h.do(context.Background(), method, path, person, body)
	if resp.status != status {
		h.t.Fatalf("%s %s as %s: status %d, want %d; body: %s", method, path, person, resp.status, status, resp.body)
	}
	if out != nil {
		if err := json.Unmarshal(resp.body, out); err != nil {
			h.t.Fatalf("%s %s: decoding %s: %v", method, path, resp.body, err)
		}
	}
	return resp
}

// submit opens a request as person and returns it.
func (h *harness) submit(person string, body web.CreateRequestBody) web.RequestView {
	h.t.Helper()
	var r web.RequestView
	h.call("POST", "/api/v1/requests", person, body, http.StatusCreated, &r)
	return r
}

// grant opens a request as alice for readonly on orders and approves it
// as bob.
func (h *harness) grant() web.RequestView {
	h.t.Helper()
	r := h.submit(servertest.Alice, web.CreateRequestBody{Target: servertest.PGTarget, Principal: "readonly"})
	var approved web.RequestView
	h.call("POST", urlf("/api/v1/requests/%d/approve", r.ID), servertest.Bob, nil, http.StatusOK, &approved)
	if approved.Grant == nil {
		h.t.Fatalf("approved request %d has no grant", r.ID)
	}
	return approved
}

// errorOf decodes a JSON error body.
func errorOf(t *testing.T, resp response) web.ErrorDetail {
	t.Helper()
	var body web.ErrorBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", resp.body, err)
	}
	return body.Error
}

// lockedBuffer is a log sink that handlers on several goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// urlf formats an API path.
func urlf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
