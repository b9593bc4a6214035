package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server"
	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/store"
)

// promptly bounds how long a stop or a released waiter may take. It is
// far below ShutdownTimeout, so a stop that waits for the timeout fails.
const promptly = 2 * time.Second

// running is a server started with Run on a free loopback port.
type running struct {
	srv    *server.Server
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg *configs.Config) *running {
	t.Helper()
	stdout := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: log, Stdout: stdout})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, stdout: stdout, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop ends Serve and returns how long the stop took and its error.
func (r *running) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	begin := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return time.Since(begin), err
	case <-time.After(2 * server.ShutdownTimeout):
		t.Fatalf("Serve did not return within %s of the stop", 2*server.ShutdownTimeout)
		return 0, nil
	}
}

func getJSON(t *testing.T, client *http.Client, url string, out any) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decoding: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestServeRespondsAndStops(t *testing.T) {
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	r := start(t, cfg)

	addr := r.srv.Addr()
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr = %q, want 127.0.0.1 with the bound port", addr)
	}
	if got := getJSON(t, http.DefaultClient, r.srv.URL()+"/readyz", nil); got != http.StatusOK {
		t.Errorf("readyz = %d, want 200", got)
	}
	if want := "jitgate: API on http://" + addr + "\n"; !strings.Contains(r.stdout.String(), want) {
		t.Errorf("stdout = %q, want the line %q", r.stdout.String(), want)
	}

	took, err := r.stop(t)
	if err != nil {
		t.Errorf("Serve after stop = %v, want nil", err)
	}
	if took > promptly {
		t.Errorf("stop took %s, want under %s", took, promptly)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("the listener on %s still accepts after the stop", addr)
	}
	if err := r.srv.Close(); err != nil {
		t.Errorf("Close after Serve returned = %v, want nil", err)
	}
}

func TestStopEndsLongPoll(t *testing.T) {
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	r := start(t, cfg)
	sub, err := r.srv.Engine().Submit(context.Background(), approval.Ask{
		Requester: servertest.Alice, Kind: approval.KindSSH, Target: servertest.SSHTarget, Principal: "deploy",
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}

	// The poll holds while the request stays pending. A stop must not wait
	// for its 50s timeout, and the poll gets a 503 that it can retry on.
	polled := make(chan int, 1)
	wrote := make(chan struct{})
	go func() {
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
		ctx := httptrace.WithClientTrace(context.Background(), trace)
		req, _ := http.NewRequestWithContext(ctx, "GET", urlf(r.srv.URL()+"/api/v1/requests/%d/wait?timeout=50s", sub.Request.ID), nil)
		req.Header.Set("Authorization", "Bearer "+servertest.Token(servertest.Alice))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			polled <- 0
			return
		}
		resp.Body.Close()
		polled <- resp.StatusCode
	}()
	<-wrote
	// A full round trip on a second connection gives the server time to
	// take up the poll written before it.
	if got := getJSON(t, http.DefaultClient, r.srv.URL()+"/readyz", nil); got != http.StatusOK {
		t.Fatalf("readyz = %d, want 200", got)
	}

	took, err := r.stop(t)
	if err != nil {
		t.Errorf("Serve after stop = %v, want nil", err)
	}
	if took > promptly {
		t.Errorf("stop with a long poll in flight took %s, want under %s", took, promptly)
	}
	select {
	case status := <-polled:
		if status != http.StatusServiceUnavailable {
			t.Errorf("long poll ended with status %d, want 503", status)
		}
	case <-time.After(promptly):
		t.Error("the long poll did not end with the stop")
	}
}

func TestConfigLoadedEvent(t *testing.T) {
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	defer srv.Close()

	ev, err := srv.Store().LastEvent(context.Background())
	if err != nil {
		t.Fatalf("LastEvent: %v", err)
	}
	if ev.Type != "config.loaded" || ev.Actor != "jitgate" {
		t.Errorf("last event = %s by %q, want config.loaded by jitgate", ev.Type, ev.Actor)
	}
	var details struct {
		Path      string `json:"path"`
		SHA256    string `json:"sha256"`
		Contracts []struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
			Hash    string `json:"hash"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(ev.Details, &details); err != nil {
		t.Fatalf("details %s: %v", ev.Details, err)
	}
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if details.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %q, want the file's %x", details.SHA256, sum)
	}
	if len(details.Contracts) != len(cfg.Contracts) {
		t.Fatalf("contracts = %d, want %d", len(details.Contracts), len(cfg.Contracts))
	}
	for i, c := range details.Contracts {
		want := &cfg.Contracts[i]
		if c.ID != want.ID || c.Version != want.Version || c.Hash != want.Hash() {
			t.Errorf("contract %d = %+v, want %s v%d %s", i, c, want.ID, want.Version, want.Hash())
		}
	}
}

func TestEngineWaiterReleasedByCancel(t *testing.T) {
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	defer srv.Close()
	sub, err := srv.Engine().Submit(context.Background(), approval.Ask{
		Requester: servertest.Alice, Kind: approval.KindSSH, Target: servertest.SSHTarget, Principal: "deploy",
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan error, 1)
	go func() {
		_, _, err := srv.Engine().WaitDecision(ctx, sub.Request.ID)
		returned <- err
	}()
	cancelledAt := time.Now()
	cancel()
	select {
	case err := <-returned:
		t.Logf("WaitDecision returned %s after the cancel", time.Since(cancelledAt))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WaitDecision = %v, want context.Canceled", err)
		}
	case <-time.After(promptly):
		t.Fatalf("WaitDecision still blocks %s after the cancel", promptly)
	}
}

func TestListenReportsBusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	cfg.Listen.Web = busy.Addr().String()
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	defer srv.Close()

	err = srv.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen.web "+cfg.Listen.Web) {
		t.Errorf("Run on a busy address = %v, want an error naming listen.web %s", err, cfg.Listen.Web)
	}
}

func TestUnsupportedStoreDriver(t *testing.T) {
	cfg := servertest.Load(t, t.TempDir(), servertest.Options{})
	cfg.State.Driver = "postgres"
	_, err := server.New(context.Background(), cfg, server.Options{})
	if err == nil || !strings.Contains(err.Error(), `state.driver "postgres"`) {
		t.Errorf("New with driver postgres = %v, want an error naming state.driver", err)
	}
}

func TestSelfSignedTLSKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Load(t, dir, servertest.Options{})
	cfg.Web.TLS.SelfSigned = true
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

	fingerprint := func() [32]byte {
		t.Helper()
		r := start(t, cfg)
		if !strings.HasPrefix(r.srv.URL(), "https://") {
			t.Fatalf("URL = %q, want https", r.srv.URL())
		}
		resp, err := client.Get(r.srv.URL() + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("healthz over TLS = %d, want 200", resp.StatusCode)
		}
		sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
		if _, err := r.stop(t); err != nil {
			t.Errorf("stop: %v", err)
		}
		return sum
	}
	first := fingerprint()
	second := fingerprint()
	if first != second {
		t.Error("the self-signed certificate changed across a restart")
	}
	info, err := os.Stat(filepath.Join(dir, "web_tls_key.pem"))
	if err != nil {
		t.Fatalf("the key file beside the state file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
}

func TestOpenStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Load(t, dir, servertest.Options{})
	st, err := server.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.State.Path); err != nil {
		t.Errorf("state file %s: %v", cfg.State.Path, err)
	}
	st, err = server.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenStore again: %v", err)
	}
	defer st.Close()
	if _, err := st.LastEvent(context.Background()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastEvent on a new store = %v, want ErrNotFound", err)
	}
}

func urlf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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
