package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

// waitLimit is the loose bound on how soon a long poll responds after
// the event it waits for. The engine wakes waiters within milliseconds; the
// bound leaves room for a loaded CI machine.
const waitLimit = time.Second

// startWait begins GET /requests/{id}/wait as person and returns a channel
// with the response. It returns once the call is inside the handler.
func startWait(t *testing.T, h *harness, ctx context.Context, id int64, person, timeout string) <-chan response {
	t.Helper()
	entered := make(chan struct{})
	h.setHook(func(r *http.Request, entering bool) {
		if entering && strings.HasSuffix(r.URL.Path, "/wait") {
			close(entered)
			h.setHook(nil)
		}
	})
	responses := make(chan response, 1)
	go func() {
		responses <- h.do(ctx, "GET", urlf("/api/v1/requests/%d/wait?timeout=%s", id, timeout), person, nil)
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait call did not reach the handler within 10s")
	}
	return responses
}

func decodeWait(t *testing.T, resp response) web.WaitView {
	t.Helper()
	if resp.status != http.StatusOK {
		t.Fatalf("wait: status %d body %s, want 200", resp.status, resp.body)
	}
	var w web.WaitView
	if err := json.Unmarshal(resp.body, &w); err != nil {
		t.Fatalf("wait: decoding %s: %v", resp.body, err)
	}
	return w
}

func TestWaitWakesOnApproval(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	responses := startWait(t, h, context.Background(), r.ID, alice, "30s")

	h.call("POST", urlf("/api/v1/requests/%d/approve", r.ID), bob, nil, http.StatusOK, nil)
	approvedAt := time.Now()
	var resp response
	select {
	case resp = <-responses:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not respond within 10s of the approval")
	}
	latency := time.Since(approvedAt)
	t.Logf("wait responded %s after the approval returned", latency)
	if latency > waitLimit {
		t.Errorf("wait responded %s after the approval, want under %s", latency, waitLimit)
	}
	w := decodeWait(t, resp)
	if !w.Decided || w.Request.State != "approved" {
		t.Errorf("wait = decided %v state %q, want decided approved", w.Decided, w.Request.State)
	}
	if w.Request.Grant == nil {
		t.Error("the approved request in the wait response has no grant")
	}
}

func TestWaitTimesOutPending(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	w := decodeWait(t, h.do(context.Background(), "GET", urlf("/api/v1/requests/%d/wait?timeout=50ms", r.ID), alice, nil))
	if w.Decided || w.Request.State != "pending" {
		t.Errorf("wait = decided %v state %q, want undecided pending", w.Decided, w.Request.State)
	}
}

func TestWaitReportsExpiry(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	responses := startWait(t, h, context.Background(), r.ID, alice, "30s")

	h.clock.Advance(31 * time.Minute) // past the 30m pending TTL
	select {
	case resp := <-responses:
		w := decodeWait(t, resp)
		if !w.Decided || w.Request.State != "expired" {
			t.Errorf("wait = decided %v state %q, want decided expired", w.Decided, w.Request.State)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not respond within 10s of the expiry")
	}
}

func TestWaitReturnsDecidedAtOnce(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	h.call("POST", urlf("/api/v1/requests/%d/deny", r.ID), bob, web.DecideBody{Comment: "no"}, http.StatusOK, nil)
	w := decodeWait(t, h.do(context.Background(), "GET", urlf("/api/v1/requests/%d/wait?timeout=30s", r.ID), alice, nil))
	if !w.Decided || w.Request.State != "denied" || w.Request.CloseReason != "no" {
		t.Errorf("wait = decided %v state %q reason %q, want decided denied: no", w.Decided, w.Request.State, w.Request.CloseReason)
	}
}

func TestWaitReleasedWhenClientLeaves(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	left := make(chan time.Time, 1)
	entered := make(chan struct{})
	h.setHook(func(req *http.Request, entering bool) {
		if !strings.HasSuffix(req.URL.Path, "/wait") {
			return
		}
		if entering {
			close(entered)
			return
		}
		left <- time.Now()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url+urlf("/api/v1/requests/%d/wait?timeout=30s", r.ID), nil)
		req.Header.Set("Authorization", "Bearer "+servertest.Token(alice))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait call did not reach the handler within 10s")
	}

	cancelledAt := time.Now()
	cancel()
	select {
	case at := <-left:
		t.Logf("handler returned %s after the client went away", at.Sub(cancelledAt))
		if d := at.Sub(cancelledAt); d > waitLimit {
			t.Errorf("handler returned %s after the client went away, want under %s", d, waitLimit)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits 10s after the client went away")
	}
}
