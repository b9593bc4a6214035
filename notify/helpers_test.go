package notify

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

// testSecret is the shared secret of the test endpoints; the secret file
// holds it with a trailing newline, as `echo` writes it.
const testSecret = "s3cret-for-tests"

// waitLimit bounds every wait for an asynchronous outcome.
const waitLimit = 10 * time.Second

// fastBackoff keeps retry tests in the millisecond range.
var fastBackoff = Backoff{Base: 10 * time.Millisecond, Factor: 2, Max: 100 * time.Millisecond}

// delivery is one request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1. status returns the
// response status for the n-th request, counting from 1. Without it every
// response is 204.
type receiver struct {
	srv *httptest.Server
	got chan delivery

	mu     sync.Mutex // guards status and count
	status func(n int) int
	count  int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan delivery, 100), status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.count++
	code := http.StatusNoContent
	if r.status != nil {
		code = r.status(r.count)
	}
	r.mu.Unlock()
	r.got <- delivery{header: req.Header.Clone(), body: body}
	w.WriteHeader(code)
}

// next returns the next delivery or fails the test after waitLimit.
func (r *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(waitLimit):
		t.Fatalf("receiver got no delivery within %s", waitLimit)
		return delivery{}
	}
}

// assertNoMore fails when the receiver holds a delivery not yet taken.
func (r *receiver) assertNoMore(t *testing.T) {
	t.Helper()
	select {
	case d := <-r.got:
		t.Errorf("unexpected extra delivery %s of %s", d.header.Get(HeaderDelivery), d.header.Get(HeaderEvent))
	default:
	}
}

// writeSecret writes testSecret and a newline to a file in dir.
func writeSecret(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(path, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// hook returns a json webhook for every event, signed with testSecret.
func hook(t *testing.T, name, url string) configs.Webhook {
	t.Helper()
	return configs.Webhook{
		Name: name, URL: url, Format: FormatJSON, SecretFile: writeSecret(t, t.TempDir()),
		Timeout: configs.Duration(2 * time.Second), MaxAttempts: 5,
	}
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a Notifier over a store, with its log and a way to run it.
type harness struct {
	n     *Notifier
	store store.Store
	logs  *syncBuffer
	stop  func() // cancels Run and waits for it to return
}

func newHarness(t *testing.T, st store.Store, hooks []configs.Webhook, edit func(*Options)) *harness {
	t.Helper()
	logs := &syncBuffer{}
	opts := Options{
		Config:    &configs.Config{PublicURL: "https://jitgate.example.com/", Webhooks: hooks},
		Store:     st,
		Logger:    slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff:   &fastBackoff,
		ScanLimit: 50,
	}
	if edit != nil {
		edit(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{n: n, store: st, logs: logs, stop: func() {}}
}

// run starts Run in the background; stop ends it. Cleanup stops it too.
func (h *harness) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.n.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("Run did not return within %s of its context ending", waitLimit)
			}
		})
	}
	t.Cleanup(h.stop)
}

// notify queues notice in its own transaction.
func (h *harness) notify(t *testing.T, notice approval.Notice) {
	t.Helper()
	err := h.store.Update(context.Background(), func(tx store.Tx) error {
		return h.n.Notify(context.Background(), tx, notice)
	})
	if err != nil {
		t.Fatalf("Notify %s: %v", notice.Event, err)
	}
}

// outbox returns every queued item.
func outbox(t *testing.T, st store.Store) []*store.OutboxItem {
	t.Helper()
	var items []*store.OutboxItem
	err := st.Update(context.Background(), func(tx store.Tx) error {
		var err error
		items, err = tx.DueOutbox(context.Background(), scanHorizon, 0)
		return err
	})
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	return items
}

// waitOutbox waits, on store changes and without polling, until cond
// holds for the queued items.
func waitOutbox(t *testing.T, st store.Store, what string, cond func([]*store.OutboxItem) bool) []*store.OutboxItem {
	t.Helper()
	changes, cancel := st.Changes()
	defer cancel()
	deadline := time.After(waitLimit)
	for {
		items := outbox(t, st)
		if cond(items) {
			return items
		}
		select {
		case <-changes:
		case <-deadline:
			t.Fatalf("outbox never became %s within %s; it holds %d items", what, waitLimit, len(items))
		}
	}
}

func emptyOutbox(items []*store.OutboxItem) bool { return len(items) == 0 }

// testWriter sends log lines to t.Log, so a failing test shows them.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// sampleRequest and sampleGrant are a request and its grant as the engine
// stores them.
func sampleRequest() *store.Request {
	created := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	return &store.Request{
		ID: 42, Version: 1, State: store.RequestPending, Requester: "alice",
		Kind: "ssh", Target: "web-1", Principal: "deploy", Duration: time.Hour,
		Trigger: "incident", Reason: "disk full on /var <!channel> & co", Ticket: "INC-42",
		ContractID: "ops", ContractVersion: 3, ContractHash: "c0ffee",
		CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute),
	}
}

func sampleGrant() *store.Grant {
	start := time.Date(2026, 12, 2, 9, 5, 0, 0, time.UTC)
	return &store.Grant{
		ID: 7, Version: 1, RequestID: 42, State: store.GrantActive, Requester: "alice",
		Kind: "ssh", Target: "web-1", Principal: "deploy",
		Start: start, End: start.Add(time.Hour), MaxSessions: 2,
		ContractID: "ops", ContractVersion: 3, ContractHash: "c0ffee",
	}
}
