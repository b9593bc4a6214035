package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/store"
)

func TestHoldOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		decide func(e *env, id int64)
		want   []string
	}{
		{
			name: "denied",
			decide: func(e *env, id int64) {
				_, err := e.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: "bob", Comment: "not during the freeze"})
				if err != nil {
					e.t.Fatal(err)
				}
			},
			want: []string{"FATAL:  jitgate: access request 1 was denied by bob: not during the freeze"},
		},
		{
			name:   "expired",
			decide: func(e *env, id int64) { e.fake.Advance(31 * time.Minute) },
			want:   []string{"FATAL:  jitgate: access request 1 expired without a decision: pending TTL ran out"},
		},
		{
			name: "cancelled by the requester",
			decide: func(e *env, id int64) {
				if _, err := e.engine.Cancel(context.Background(), id, "alice", "wrong target"); err != nil {
					e.t.Fatal(err)
				}
			},
			want: []string{"FATAL:  jitgate: access request 1 was cancelled by alice: wrong target"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
			id := p.waitRequestNotice(t)
			tt.decide(e, id)
			if code := p.wait(t, 30*time.Second); code == 0 {
				t.Fatalf("psql exited 0; stdout %q", p.stdout.String())
			}
			stderr := p.stderr.String()
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("psql stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(p.stdout.String(), "1") {
				t.Errorf("query ran without a grant: stdout %q", p.stdout.String())
			}
		})
	}
}

func TestHoldReusesGrant(t *testing.T) {
	e := newEnv(t, envOptions{})
	p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
	e.approve(p.waitRequestNotice(t))
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("first psql exit %d: %s", code, p.stderr.String())
	}

	stdout, stderr, code := runPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 2")
	if code != 0 || strings.TrimSpace(stdout) != "2" {
		t.Fatalf("second psql: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "access request") {
		t.Errorf("second connection was held again: %s", stderr)
	}
	reqs, err := e.store.Requests(t.Context(), store.RequestFilter{Requester: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Errorf("requests = %d, want 1", len(reqs))
	}
	roles, err := e.store.Credentials(t.Context(), store.CredentialFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 {
		t.Errorf("minted roles = %d, want 1 shared by both connections", len(roles))
	}
}

func TestHoldSessionCap(t *testing.T) {
	e := newEnv(t, envOptions{maxSessions: 1})
	e.grantAccess("readwrite")
	first := e.pgxConnect("alice")
	defer first.Close(context.Background())

	_, stderr, code := runPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
	if code == 0 {
		t.Fatal("a second session above the cap of 1 was allowed")
	}
	if w := "FATAL:  jitgate: alice already has the maximum number of sessions the grant allows"; !strings.Contains(stderr, w) {
		t.Errorf("psql stderr lacks %q:\n%s", w, stderr)
	}
	_, err := e.pgxConnectErr("alice")
	if code := pgErrorCode(err); code != "53300" {
		t.Errorf("pgx error = %v, want SQLSTATE 53300", err)
	}
	if err := first.Ping(context.Background()); err != nil {
		t.Errorf("the first session broke: %v", err)
	}
}

// pgErrorCode returns the SQLSTATE of a server error, or "".
func pgErrorCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// pgxConnect connects through the front door with an active grant.
func (e *env) pgxConnect(user string, extra ...string) *pgx.Conn {
	e.t.Helper()
	conn, err := e.pgxConnectErr(user, extra...)
	if err != nil {
		e.t.Fatalf("connecting through jitgate: %v", err)
	}
	return conn
}

func (e *env) pgxConnectErr(user string, extra ...string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.proxyDSN(user, extra...) + " password=" + tokenFor(user))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// TestHoldDeniedCode checks the SQLSTATE that psql does not print for a
// failed connection.
func TestHoldDeniedCode(t *testing.T) {
	e := newEnv(t, envOptions{})
	result := make(chan error, 1)
	go func() {
		conn, err := e.pgxConnectErr("alice")
		if conn != nil {
			conn.Close(context.Background())
		}
		result <- err
	}()
	var id int64
	e.waitStore(30*time.Second, "a pending request", func() bool {
		reqs, err := e.store.Requests(t.Context(), store.RequestFilter{States: []store.RequestState{store.RequestPending}})
		if err != nil || len(reqs) == 0 {
			return false
		}
		id = reqs[0].ID
		return true
	})
	if _, err := e.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: "bob", Comment: "no"}); err != nil {
		t.Fatal(err)
	}
	err := <-result
	if code := pgErrorCode(err); code != "28000" {
		t.Errorf("error = %v, want SQLSTATE 28000", err)
	}
}
