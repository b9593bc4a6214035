package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

// liveRoles returns how many jitgate roles exist upstream.
func (e *env) liveRoles() string {
	return e.adminQuery(`SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'jitgate\_%'`)
}

// credentialsRevoked reports whether every credential record of the
// grant is revoked.
func (e *env) credentialsRevoked(grantID int64) bool {
	cs, err := e.store.Credentials(e.t.Context(), store.CredentialFilter{GrantID: grantID})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cs {
		if c.State != store.CredentialRevoked {
			return false
		}
	}
	return len(cs) > 0
}

// The window of this test is measured on a fake clock shared by the
// engine, the session registry and the front door, so the test moves to
// the window end at once instead of waiting for it.
func TestPsqlApproveQueryWindowEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	script := "select current_user;\nbegin;\ninsert into t values (1, 'in-tx');\nselect pg_sleep(60);\n"
	p := startPsql(t, "alice", e.proxyDSN("alice"), script)

	id := p.waitRequestNotice(t)
	notice, _ := p.stderr.waitLine(time.Second, func(l string) bool { return strings.Contains(l, "/requests/") })
	if want := "http://127.0.0.1:8080/requests/" + itoa(id); !strings.Contains(notice, want) {
		t.Errorf("notice %q does not name the approval page %s", notice, want)
	}
	g := e.approve(id)

	waitFor(t, 20*time.Second, "pg_sleep running upstream", func() bool {
		return e.adminQuery(`SELECT count(*)::text FROM pg_stat_activity WHERE query = 'select pg_sleep(60);' AND usename LIKE 'jitgate\_%'`) == "1"
	})
	if n := e.liveRoles(); n != "1" {
		t.Errorf("jitgate roles upstream during the session = %s, want 1", n)
	}
	if got := e.adminQuery(`SELECT (rolvaliduntil IS NOT NULL AND rolcanlogin)::text FROM pg_roles WHERE rolname LIKE 'jitgate\_%'`); got != "true" {
		t.Errorf("temporary role has no VALID UNTIL or cannot log in: %s", got)
	}

	e.fake.Set(g.End)
	code := p.wait(t, 30*time.Second)
	stderr := p.stderr.String()
	t.Logf("psql stderr:\n%s", stderr)
	if code == 0 {
		t.Errorf("psql exited 0 after the window end; stderr:\n%s", stderr)
	}
	for _, want := range []string{"FATAL:  57P01", "jitgate: grant " + itoa(g.ID) + " ended at", "the session is closed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("psql stderr lacks %q:\n%s", want, stderr)
		}
	}
	if out := p.stdout.String(); !strings.HasPrefix(out, "jitgate_g"+itoa(g.ID)+"_") {
		t.Errorf("current_user = %q, want the grant's temporary role", out)
	}

	waitFor(t, 20*time.Second, "pg_sleep to stop upstream", func() bool {
		return e.adminQuery(`SELECT count(*)::text FROM pg_stat_activity WHERE query = 'select pg_sleep(60);'`) == "0"
	})
	if n := e.adminQuery(`SELECT count(*)::text FROM t WHERE v = 'in-tx'`); n != "0" {
		t.Errorf("rows of the open transaction after the window end = %s, want 0 (rolled back)", n)
	}
	e.waitStore(30*time.Second, "the role's credential record revoked", func() bool { return e.credentialsRevoked(g.ID) })
	if n := e.liveRoles(); n != "0" {
		t.Errorf("jitgate roles upstream after the window end = %s, want 0", n)
	}
	sessions, err := e.store.Sessions(t.Context(), store.SessionFilter{GrantID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].EndReason != "window-end" {
		t.Errorf("sessions = %+v, want one ended by window-end", sessions)
	}
}

func itoa(n int64) string { return formatInt(n) }
