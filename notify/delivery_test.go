package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
)

// checkSigned verifies d at now as a receiver would and returns its
// decoded body.
func checkSigned(t *testing.T, d delivery, now time.Time) jsonPayload {
	t.Helper()
	err := Verify([]byte(testSecret), d.header.Get(HeaderTimestamp), d.header.Get(HeaderSignature), d.body, now, 0)
	if err != nil {
		t.Fatalf("Verify of delivery %s: %v", d.header.Get(HeaderDelivery), err)
	}
	return decodeJSONPayload(t, d.body)
}

func decodeJSONPayload(t *testing.T, body []byte) jsonPayload {
	t.Helper()
	var p jsonPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return p
}

func TestDeliveryEachEventOnce(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "ops-hook", rcv.srv.URL+"/hooks/jitgate")}, nil)
	h.run(t)

	req, grant := sampleRequest(), sampleGrant()
	notices := []approval.Notice{
		{Event: "request.created", Actor: "alice", Request: req},
		{Event: "request.approved", Request: req, Grant: grant},
		{Event: "grant.revoked", Actor: "bob", Comment: "incident closed", Grant: grant},
	}
	for _, n := range notices {
		h.notify(t, n)
	}

	seen := map[string]bool{}
	for i, want := range notices {
		d := rcv.next(t)
		p := checkSigned(t, d, time.Now())
		if p.Event != want.Event {
			t.Errorf("delivery %d: event %q, want %q (deliveries must keep their order)", i, p.Event, want.Event)
		}
		if got := d.header.Get(HeaderEvent); got != want.Event {
			t.Errorf("delivery %d: %s = %q, want %q", i, HeaderEvent, got, want.Event)
		}
		id := d.header.Get(HeaderDelivery)
		if id == "" || id != p.ID {
			t.Errorf("delivery %d: %s = %q, body id = %q; want the same non-empty id", i, HeaderDelivery, id, p.ID)
		}
		if seen[id] {
			t.Errorf("delivery %d: id %s was delivered before", i, id)
		}
		seen[id] = true
		if p.URL != "https://jitgate.example.com/requests/42" {
			t.Errorf("delivery %d: url %q, want the request page", i, p.URL)
		}
		if want.Request != nil && (p.Request == nil || p.Request.ID != 42) {
			t.Errorf("delivery %d: request %+v, want request 42", i, p.Request)
		}
		if want.Grant != nil && (p.Grant == nil || p.Grant.ID != 7) {
			t.Errorf("delivery %d: grant %+v, want grant 7", i, p.Grant)
		}
	}

	waitOutbox(t, st, "empty", emptyOutbox)
	h.stop()
	rcv.assertNoMore(t)
	if s := h.n.Stats(); s.Total != (Counts{Delivered: 3}) {
		t.Errorf("Stats().Total = %+v, want 3 delivered", s.Total)
	}
}

func TestDeliveryRejectsReplayAndAlteredBody(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "ops-hook", rcv.srv.URL)}, nil)
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})
	d := rcv.next(t)
	ts, sig := d.header.Get(HeaderTimestamp), d.header.Get(HeaderSignature)
	now := time.Now()

	cases := []struct {
		name string
		body []byte
		now  time.Time
		want error
	}{
		{"as received", d.body, now, nil},
		{"replayed after six minutes", d.body, now.Add(6 * time.Minute), ErrStale},
		{"altered body", []byte(strings.Replace(string(d.body), `"alice"`, `"mallory"`, 1)), now, ErrBadSignature},
		{"body with extra space", append(append([]byte{}, d.body...), ' '), now, ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify([]byte(testSecret), ts, sig, tc.body, tc.now, DefaultMaxAge)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDeliveryRetriesUntilThirdAttempt(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "flaky", rcv.srv.URL)}, nil)
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	var ids []string
	for attempt := 1; attempt <= 3; attempt++ {
		d := rcv.next(t)
		p := checkSigned(t, d, time.Now())
		if p.Event != "request.created" {
			t.Errorf("attempt %d: event %q, want request.created", attempt, p.Event)
		}
		ids = append(ids, d.header.Get(HeaderDelivery))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("delivery ids across retries = %v, want one id repeated", ids)
	}

	waitOutbox(t, st, "empty", emptyOutbox)
	h.stop()
	rcv.assertNoMore(t)
	want := Counts{Delivered: 1, Failed: 2}
	if got := h.n.Stats().Endpoints["flaky"]; got != want {
		t.Errorf("Stats().Endpoints[flaky] = %+v, want %+v", got, want)
	}
	if !strings.Contains(h.logs.String(), "webhook attempt failed; retrying") {
		t.Errorf("log has no retry line:\n%s", h.logs)
	}
}

func TestDeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	// The path stands for the token in a Slack webhook URL: it must not
	// reach the log.
	w := hook(t, "down-hook", rcv.srv.URL+"/services/T000/B000/url-token-XYZ")
	w.MaxAttempts = 3
	h := newHarness(t, st, []configs.Webhook{w}, nil)
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	for range 3 {
		rcv.next(t)
	}
	waitOutbox(t, st, "empty", emptyOutbox)
	h.stop()
	rcv.assertNoMore(t)

	want := Counts{Failed: 3, Dead: 1}
	if got := h.n.Stats().Total; got != want {
		t.Errorf("Stats().Total = %+v, want %+v", got, want)
	}
	logs := h.logs.String()
	for _, line := range []string{"webhook delivery given up", "webhook=down-hook", "request=42", "HTTP 503"} {
		if !strings.Contains(logs, line) {
			t.Errorf("log lacks %q:\n%s", line, logs)
		}
	}
	for _, secret := range []string{testSecret, "url-token-XYZ"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains the secret %q:\n%s", secret, logs)
		}
	}
}

func TestDeliveryUnreachableKeepsURLOutOfErrors(t *testing.T) {
	addr := closedPort(t)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	w := hook(t, "gone", "http://"+addr+"/services/url-token-XYZ")
	h := newHarness(t, st, []configs.Webhook{w}, func(o *Options) {
		o.Backoff = &Backoff{Base: time.Hour, Factor: 2, Max: time.Hour}
	})
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	items := waitOutbox(t, st, "one failed item", func(items []*store.OutboxItem) bool {
		return len(items) == 1 && items[0].Attempts == 1
	})
	h.stop()
	if !strings.Contains(items[0].LastError, "connection refused") {
		t.Errorf("LastError = %q, want the connection error", items[0].LastError)
	}
	if strings.Contains(items[0].LastError, "url-token-XYZ") {
		t.Errorf("LastError %q contains the URL", items[0].LastError)
	}
	if strings.Contains(h.logs.String(), "url-token-XYZ") {
		t.Errorf("log contains the URL:\n%s", h.logs)
	}
}

// closedPort returns a 127.0.0.1 address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDeliveryAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	down := "http://" + closedPort(t) + "/hook"

	// First life: the receiver is down, so both events stay queued.
	st := openStore(t, path)
	w := hook(t, "ops-hook", down)
	w.MaxAttempts = 1000
	first := newHarness(t, st, []configs.Webhook{w}, nil)
	first.run(t)
	first.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})
	first.notify(t, approval.Notice{Event: "request.approved", Request: sampleRequest(), Grant: sampleGrant()})
	// The older item fails again and again; it holds the newer one back.
	queued := waitOutbox(t, st, "two items, the older one failed", func(items []*store.OutboxItem) bool {
		return len(items) == 2 && items[0].Attempts+items[1].Attempts > 1
	})
	first.stop()
	for _, it := range queued {
		if it.EventType == "request.approved" && it.Attempts != 0 {
			t.Errorf("the newer item was attempted %d times while the older one failed, want 0", it.Attempts)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("closing the store: %v", err)
	}
	wantIDs := map[string]bool{}
	for _, it := range queued {
		env, err := decodeEnvelope(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs[env.Delivery] = true
	}

	// Second life: same file, the webhook of the same name now reaches a
	// live receiver.
	rcv := newReceiver(t, nil)
	st = openStore(t, path)
	second := newHarness(t, st, []configs.Webhook{hook(t, "ops-hook", rcv.srv.URL)}, nil)
	second.run(t)
	for i, want := range []string{"request.created", "request.approved"} {
		d := rcv.next(t)
		p := checkSigned(t, d, time.Now())
		if p.Event != want {
			t.Errorf("delivery %d after restart: event %q, want %q", i, p.Event, want)
		}
		if !wantIDs[p.ID] {
			t.Errorf("delivery %d after restart: id %s is not one queued before the restart", i, p.ID)
		}
	}
	waitOutbox(t, st, "empty", emptyOutbox)
	second.stop()
	rcv.assertNoMore(t)
}

func TestDeliveryHeldBehindFailedItem(t *testing.T) {
	// The first request fails, so the receiver must get the first event
	// again before it gets the second.
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "ordered", rcv.srv.URL)}, nil)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})
	h.notify(t, approval.Notice{Event: "request.approved", Request: sampleRequest(), Grant: sampleGrant()})
	h.run(t)

	var got []string
	for range 3 {
		got = append(got, checkSigned(t, rcv.next(t), time.Now()).Event)
	}
	want := []string{"request.created", "request.created", "request.approved"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events in arrival order = %v, want %v", got, want)
	}
	waitOutbox(t, st, "empty", emptyOutbox)
}

func TestDeliveryEndpointsIndependent(t *testing.T) {
	// One endpoint is down for good; the other must still get its event.
	down := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	up := newReceiver(t, nil)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	slow := hook(t, "down", down.srv.URL)
	slow.MaxAttempts = 100
	h := newHarness(t, st, []configs.Webhook{slow, hook(t, "up", up.srv.URL)}, func(o *Options) {
		o.Backoff = &Backoff{Base: time.Hour, Factor: 2, Max: time.Hour}
	})
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	down.next(t)
	if p := checkSigned(t, up.next(t), time.Now()); p.Event != "request.created" {
		t.Errorf("up endpoint got %q, want request.created", p.Event)
	}
	items := waitOutbox(t, st, "only the failed item", func(items []*store.OutboxItem) bool {
		return len(items) == 1 && items[0].Attempts == 1
	})
	if items[0].Endpoint != "down" {
		t.Errorf("item left for endpoint %q, want down", items[0].Endpoint)
	}
}

func TestDeliveryRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, nil)
	redirected := make(chan struct{}, 10)
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected <- struct{}{}
		http.Redirect(w, r, target.srv.URL, http.StatusFound)
	}))
	t.Cleanup(moved.Close)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "moved", moved.URL)}, func(o *Options) {
		o.Backoff = &Backoff{Base: time.Hour, Factor: 2, Max: time.Hour}
	})
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	items := waitOutbox(t, st, "one failed item", func(items []*store.OutboxItem) bool {
		return len(items) == 1 && items[0].Attempts == 1
	})
	h.stop()
	if len(redirected) != 1 {
		t.Errorf("redirecting server got %d requests, want 1", len(redirected))
	}
	if !strings.Contains(items[0].LastError, "HTTP 302") {
		t.Errorf("LastError = %q, want HTTP 302", items[0].LastError)
	}
	target.assertNoMore(t)
}

func TestDeliveryInterruptedByShutdown(t *testing.T) {
	arrived := make(chan struct{}, 1)
	hangs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a closed connection only after the body is
		// read, and only then cancels r.Context.
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done() // responds only when the client gives up
	}))
	t.Cleanup(hangs.Close)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "hangs", hangs.URL)}, nil)
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	select {
	case <-arrived:
	case <-time.After(waitLimit):
		t.Fatal("the attempt never reached the receiver")
	}
	h.stop()

	items := outbox(t, st)
	if len(items) != 1 {
		t.Fatalf("outbox holds %d items after the interrupted attempt, want 1", len(items))
	}
	if items[0].Attempts != 0 {
		t.Errorf("Attempts = %d, want 0: an attempt cut short by shutdown is not a failure", items[0].Attempts)
	}
	if items[0].NextAt.After(time.Now()) {
		t.Errorf("NextAt = %s, want due at once for the next start", items[0].NextAt)
	}
	if got := h.n.Stats().Total; got != (Counts{}) {
		t.Errorf("Stats().Total = %+v, want all zero", got)
	}
}

func TestRunTwiceRejected(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "ops-hook", rcv.srv.URL)}, nil)
	h.run(t)
	// A delivery proves that the first Run is in its loop.
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})
	rcv.next(t)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := h.n.Run(ctx); err == nil {
		t.Error("second Run returned nil, want an error")
	}
}

func TestDeliveryUnknownEndpointGivenUpAfterGrace(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	clk := clock.NewFake(time.Now())
	old := newHarness(t, st, []configs.Webhook{hook(t, "old-hook", rcv.srv.URL)}, func(o *Options) { o.Clock = clk })
	old.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	// A process whose config lacks old-hook keeps the item for a day.
	current := newHarness(t, st, []configs.Webhook{hook(t, "new-hook", rcv.srv.URL)}, func(o *Options) { o.Clock = clk })
	current.run(t)
	current.notify(t, approval.Notice{Event: "request.denied", Actor: "bob", Request: sampleRequest()})
	if p := checkSigned(t, rcv.next(t), clk.Now()); p.Event != "request.denied" {
		t.Fatalf("new-hook got %q, want request.denied", p.Event)
	}
	items := waitOutbox(t, st, "only the old-hook item", func(items []*store.OutboxItem) bool { return len(items) == 1 })
	if items[0].Endpoint != "old-hook" {
		t.Fatalf("item left for %q, want old-hook", items[0].Endpoint)
	}

	clk.Advance(orphanGrace)
	current.notify(t, approval.Notice{Event: "request.denied", Actor: "carol", Request: sampleRequest()})
	rcv.next(t)
	waitOutbox(t, st, "empty", emptyOutbox)
	current.stop()
	rcv.assertNoMore(t)
	if got := current.n.Stats().Endpoints["old-hook"]; got != (Counts{Dead: 1}) {
		t.Errorf("Stats().Endpoints[old-hook] = %+v, want 1 dead", got)
	}
	if !strings.Contains(current.logs.String(), "no webhook of that name has been configured for a day") {
		t.Errorf("log lacks the give-up line:\n%s", current.logs)
	}
}

func TestDeliveryAttemptTimesOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	w := hook(t, "slow", slow.URL)
	w.Timeout = configs.Duration(50 * time.Millisecond)
	h := newHarness(t, st, []configs.Webhook{w}, func(o *Options) {
		o.Backoff = &Backoff{Base: time.Hour, Factor: 2, Max: time.Hour}
	})
	h.run(t)
	h.notify(t, approval.Notice{Event: "request.created", Actor: "alice", Request: sampleRequest()})

	items := waitOutbox(t, st, "one failed item", func(items []*store.OutboxItem) bool {
		return len(items) == 1 && items[0].Attempts == 1
	})
	h.stop()
	if !strings.Contains(items[0].LastError, "timed out after 50ms") {
		t.Errorf("LastError = %q, want the attempt timeout", items[0].LastError)
	}
	if got := h.n.Stats().Total; got != (Counts{Failed: 1}) {
		t.Errorf("Stats().Total = %+v, want 1 failed", got)
	}
}
