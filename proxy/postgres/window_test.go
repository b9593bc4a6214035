package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/store"
)

// noticeCollector gathers the notices a pgx connection receives.
type noticeCollector struct {
	mu   sync.Mutex
	msgs []string
}

func (n *noticeCollector) add(_ *pgconn.PgConn, notice *pgconn.Notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, notice.Severity+" "+notice.Message)
}

func (n *noticeCollector) has(substr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.msgs {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

func (e *env) pgxWithNotices(user string) (*pgx.Conn, *noticeCollector) {
	e.t.Helper()
	cfg, err := pgx.ParseConfig(e.proxyDSN(user) + " password=" + tokenFor(user))
	if err != nil {
		e.t.Fatal(err)
	}
	notices := &noticeCollector{}
	cfg.OnNotice = notices.add
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, notices
}

// queryUntil runs select 1 until cond holds: pgx reads a notice only
// while it reads a result.
func queryUntil(t *testing.T, conn *pgx.Conn, what string, cond func() bool) {
	t.Helper()
	waitFor(t, 10*time.Second, what, func() bool {
		conn.Exec(context.Background(), "select 1")
		return cond()
	})
}

// queryError returns the error of select 1 once the session is closed.
func queryError(t *testing.T, conn *pgx.Conn) *pgconn.PgError {
	t.Helper()
	var pgErr *pgconn.PgError
	waitFor(t, 10*time.Second, "the session's final error", func() bool {
		_, err := conn.Exec(context.Background(), "select 1")
		if pe, ok := err.(*pgconn.PgError); ok {
			pgErr = pe
			return true
		}
		return err != nil
	})
	return pgErr
}

func TestWindowWarningsThenEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	conn, notices := e.pgxWithNotices("alice")

	e.fake.Set(g.End.Add(-5*time.Minute + time.Second))
	queryUntil(t, conn, "the 5 minute warning", func() bool { return notices.has("ends in 5m0s") })
	if notices.has("ends in 1m0s") {
		t.Error("1 minute warning came 5 minutes before the end")
	}
	e.fake.Set(g.End.Add(-time.Minute + time.Second))
	queryUntil(t, conn, "the 1 minute warning", func() bool { return notices.has("ends in 1m0s") })

	e.fake.Set(g.End)
	pgErr := queryError(t, conn)
	if pgErr == nil || pgErr.Code != "57P01" || pgErr.Severity != "FATAL" || !strings.Contains(pgErr.Message, "grant "+itoa(g.ID)+" ended") {
		t.Errorf("error after the window end = %+v, want FATAL 57P01 naming grant %d", pgErr, g.ID)
	}
}

func TestWindowIdleTimeout(t *testing.T) {
	e := newEnv(t, envOptions{idleTimeout: "15m"})
	e.grantAccess("readwrite")
	conn, _ := e.pgxWithNotices("alice")
	if _, err := conn.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(16 * time.Minute)
	pgErr := queryError(t, conn)
	if pgErr == nil || pgErr.Code != "57P05" || !strings.Contains(pgErr.Message, "without input") {
		t.Errorf("error after the idle timeout = %+v, want 57P05", pgErr)
	}
}

func TestWindowRevokedThenHeldAgain(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	conn, _ := e.pgxWithNotices("alice")
	if _, err := conn.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Revoke(context.Background(), g.ID, "bob", "incident closed"); err != nil {
		t.Fatal(err)
	}
	pgErr := queryError(t, conn)
	if pgErr == nil || pgErr.Code != "57P01" || !strings.Contains(pgErr.Message, "grant "+itoa(g.ID)+" was revoked by bob") {
		t.Errorf("error after revocation = %+v", pgErr)
	}
	e.waitStore(30*time.Second, "the role revoked", func() bool { return e.credentialsRevoked(g.ID) })
	if n := e.liveRoles(); n != "0" {
		t.Errorf("jitgate roles after revocation = %s, want 0", n)
	}

	p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
	id := p.waitRequestNotice(t)
	if id == g.RequestID {
		t.Errorf("new connection joined the old request %d", id)
	}
}

// blockingReader yields data, then blocks until release is closed.
type blockingReader struct {
	data    []byte
	sent    chan struct{}
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	select {
	case <-r.sent:
	default:
		close(r.sent)
	}
	<-r.release
	return 0, context.Canceled
}

func TestWindowEndDuringCopy(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	defer conn.Close(context.Background())

	var data strings.Builder
	for i := range 20000 {
		data.WriteString(itoa(int64(i)) + "\tcopy-row\n")
	}
	r := &blockingReader{data: []byte(data.String()), sent: make(chan struct{}), release: make(chan struct{})}
	result := make(chan error, 1)
	go func() {
		_, err := conn.PgConn().CopyFrom(context.Background(), r, "copy t from stdin")
		result <- err
	}()
	<-r.sent
	e.fake.Set(g.End)
	waitFor(t, 10*time.Second, "the session to end", func() bool {
		ss, _ := e.store.Sessions(t.Context(), store.SessionFilter{GrantID: g.ID, States: []store.SessionState{store.SessionClosed}})
		return len(ss) == 1
	})
	close(r.release)
	if err := <-result; err == nil {
		t.Error("COPY cut by the window end reported success")
	}
	if n := e.adminQuery("select count(*)::text from t"); n != "0" {
		t.Errorf("rows committed by the cut COPY = %s, want 0", n)
	}
}
