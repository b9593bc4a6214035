package approval_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

// countingStore counts the reads of single grants.
type countingStore struct {
	store.Store
	grantReads atomic.Int64
}

func (s *countingStore) Grant(ctx context.Context, id int64) (*store.Grant, error) {
	s.grantReads.Add(1)
	return s.Store.Grant(ctx, id)
}

// TestWaitGrantIgnoresSessionChanges checks that sessions opening and
// closing under a grant do not wake its watchers, which would each read
// the grant again, while a revocation still does.
func TestWaitGrantIgnoresSessionChanges(t *testing.T) {
	cfg, err := configs.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	counted := &countingStore{Store: st}
	clk := clock.NewFake(start)
	e, err := approval.New(approval.Options{
		Config: cfg, Store: counted, Audit: audit.New(counted, clk), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{engine: e, clock: clk, store: counted}
	r := f.submit(t, opsAsk())
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}

	cycle := func() int64 {
		before := counted.grantReads.Load()
		for i := 0; i < 20; i++ {
			s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
			if _, err := e.Claim(ctx, s); err != nil {
				t.Fatalf("claim %d: %v", i, err)
			}
			time.Sleep(2 * time.Millisecond) // time for a woken watcher to read
			if err := e.EndSession(ctx, s); err != nil {
				t.Fatalf("end session %d: %v", i, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		return counted.grantReads.Load() - before
	}
	alone := cycle() // the engine's own reads, with no watcher

	done := make(chan *store.Grant, 1)
	go func() {
		g, _ := e.WaitGrant(ctx, d.Grant.ID, d.Grant.Version)
		done <- g
	}()
	// Wait for the watcher's first read, so the count starts after it.
	for counted.grantReads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	watched := cycle()
	if watched > alone {
		t.Errorf("with a watcher, 20 sessions caused %d grant reads against %d without, want no more", watched, alone)
	}
	select {
	case g := <-done:
		t.Fatalf("the watcher returned on session changes alone: %+v", g)
	default:
	}

	if _, err := e.Revoke(ctx, d.Grant.ID, "carol", "done"); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-done:
		if g == nil || g.State != store.GrantRevoked {
			t.Errorf("the watcher saw %+v, want the revoked grant", g)
		}
	case <-ctx.Done():
		t.Fatal("the watcher did not wake on the revocation")
	}
}
