package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	// Registers the "sqlite" driver that the tamper cases edit the file with.
	_ "modernc.org/sqlite"

	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

// makeHistory approves one request and denies another through the CLI.
func makeHistory(t *testing.T, serverURL string) {
	t.Helper()
	for _, step := range []struct {
		person string
		args   []string
	}{
		{alice, []string{"request", "web-1", "--login", "deploy", "--reason", "deploy hotfix"}},
		{bob, []string{"approve", "1"}},
		{alice, []string{"request", "orders", "--role", "readonly"}},
		{bob, []string{"deny", "2", "--comment", "not now"}},
	} {
		if res := jitgate(t, serverURL, step.person, "", step.args...); res.code != 0 {
			t.Fatalf("jitgate %s exit status = %d", strings.Join(step.args, " "), res.code)
		}
	}
}

func verifyReport(t *testing.T, serverURL string, args ...string) (web.AuditReport, int) {
	t.Helper()
	res := jitgate(t, serverURL, bob, "", append([]string{"audit", "verify", "-o", "json"}, args...)...)
	var report web.AuditReport
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("audit verify -o json = %q: %v", res.stdout, err)
	}
	return report, res.code
}

func TestRestartKeepsRequestsGrantsAndChain(t *testing.T) {
	dir := t.TempDir()
	config := servertest.WriteConfig(t, dir, servertest.Options{})
	first := startServer(t, config)
	makeHistory(t, first.url)

	requestsBefore := jitgate(t, first.url, bob, "", "requests", "-o", "json").stdout
	grantsBefore := jitgate(t, first.url, bob, "", "grants", "-o", "json").stdout
	before, _ := verifyReport(t, first.url)
	first.kill()

	second := startServer(t, config)
	if got := jitgate(t, second.url, bob, "", "requests", "-o", "json").stdout; got != requestsBefore {
		t.Errorf("requests after the restart differ:\nbefore: %s\nafter:  %s", requestsBefore, got)
	}
	if got := jitgate(t, second.url, bob, "", "grants", "-o", "json").stdout; got != grantsBefore {
		t.Errorf("grants after the restart differ:\nbefore: %s\nafter:  %s", grantsBefore, got)
	}
	var grants []web.GrantView
	if err := json.Unmarshal([]byte(grantsBefore), &grants); err != nil || len(grants) != 1 || grants[0].State != "active" {
		t.Errorf("grants = %s, want one active grant", grantsBefore)
	}

	offline, code := verifyReport(t, "", "--config", config)
	if code != 0 || !offline.OK {
		t.Fatalf("audit verify --config = exit %d, %+v; want OK", code, offline)
	}
	// The restart appends one config.loaded event to the same chain.
	if offline.Events != before.Events+1 {
		t.Errorf("events after the restart = %d, want %d + 1 for config.loaded", offline.Events, before.Events)
	}
	online, _ := verifyReport(t, second.url)
	if online != offline {
		t.Errorf("verify through the API = %+v, offline = %+v; want the same", online, offline)
	}
	text := jitgate(t, "", "", "", "audit", "verify", "--config", config)
	if want := fmt.Sprintf("audit chain OK: %d events, head %s\n", offline.Events, offline.Head); text.stdout != want {
		t.Errorf("audit verify = %q, want %q", text.stdout, want)
	}
	second.stop()
}

func TestAuditVerifyNamesTamperedEvent(t *testing.T) {
	dir := t.TempDir()
	config := servertest.WriteConfig(t, dir, servertest.Options{})
	srv := startServer(t, config)
	makeHistory(t, srv.url)
	srv.stop()

	seq := eventSeq(t, config, "request.created")
	tests := []struct {
		name    string
		tamper  []string
		broken  int64
		problem string
	}{
		{"changed detail", []string{
			fmt.Sprintf(`UPDATE events SET details = replace(details, 'deploy hotfix', 'deploy hotfiX') WHERE seq = %d`, seq),
		}, seq, "stored hash does not match its content"},
		{"changed actor", []string{
			fmt.Sprintf(`UPDATE events SET actor = 'mallory' WHERE seq = %d`, seq),
		}, seq, "stored hash does not match its content"},
		{"deleted event", []string{
			fmt.Sprintf(`DELETE FROM events WHERE seq = %d`, seq),
		}, seq + 1, fmt.Sprintf("event %d is missing", seq)},
		{"deleted next-to-last event", []string{
			`DELETE FROM events WHERE seq = (SELECT max(seq) FROM events) - 1`,
		}, -1, "is missing"},
		{"reordered events", swapEvents(seq, seq+1), seq, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			copied := copyState(t, dir)
			editEvents(t, filepath.Join(copied, "jitgate.db"), tt.tamper)

			res := jitgate(t, "", "", "", "audit", "verify", "--config", filepath.Join(copied, "jitgate.yaml"))
			if res.code != 1 {
				t.Errorf("exit status = %d, want 1", res.code)
			}
			prefix := "audit chain BROKEN at event "
			if tt.broken > 0 {
				prefix += strconv.FormatInt(tt.broken, 10) + ":"
			}
			if !strings.HasPrefix(res.stdout, prefix) {
				t.Errorf("stdout = %q, want it to start with %q", res.stdout, prefix)
			}
			if !strings.Contains(res.stdout, tt.problem) {
				t.Errorf("stdout = %q, want it to say %q", res.stdout, tt.problem)
			}
		})
	}

	t.Run("untouched copy verifies", func(t *testing.T) {
		copied := copyState(t, dir)
		res := jitgate(t, "", "", "", "audit", "verify", "--config", filepath.Join(copied, "jitgate.yaml"))
		if res.code != 0 || !strings.HasPrefix(res.stdout, "audit chain OK: ") {
			t.Errorf("untouched copy = exit %d, %q; want OK", res.code, res.stdout)
		}
	})
}

// swapEvents exchanges the content of two events, keeping their seq.
func swapEvents(a, b int64) []string {
	cols := "time, type, actor, request_id, grant_id, session_id, details, prev_hash, hash"
	return []string{
		`CREATE TEMP TABLE swap AS SELECT * FROM events WHERE seq IN (` + strconv.FormatInt(a, 10) + `, ` + strconv.FormatInt(b, 10) + `)`,
		fmt.Sprintf(`UPDATE events SET (%s) = (SELECT %s FROM swap WHERE swap.seq = %d) WHERE seq = %d`, cols, cols, b, a),
		fmt.Sprintf(`UPDATE events SET (%s) = (SELECT %s FROM swap WHERE swap.seq = %d) WHERE seq = %d`, cols, cols, a, b),
	}
}

// eventSeq returns the seq of the first event of type typ, read through
// `audit export --config`.
func eventSeq(t *testing.T, config, typ string) int64 {
	t.Helper()
	res := jitgate(t, "", "", "", "audit", "export", "--config", config, "--format", "jsonl")
	if res.code != 0 {
		t.Fatalf("audit export exit status = %d", res.code)
	}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	for sc.Scan() {
		var ev struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if ev.Type == typ {
			return ev.Seq
		}
	}
	t.Fatalf("no %s event in the export", typ)
	return 0
}

// copyState copies the config and the SQLite files of dir into a new
// folder, so each tamper case starts from the same history.
func copyState(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if name != "jitgate.yaml" && !strings.HasPrefix(name, "jitgate.db") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editEvents runs statements on the events table as an attacker with file
// access would: first dropping the triggers that block changes.
func editEvents(t *testing.T, path string, statements []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the temp table lives on one connection
	all := append([]string{`DROP TRIGGER events_no_update`, `DROP TRIGGER events_no_delete`}, statements...)
	for _, stmt := range all {
		res, err := db.Exec(stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if strings.HasPrefix(stmt, "UPDATE") || strings.HasPrefix(stmt, "DELETE") {
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s changed %d rows, want 1", stmt, n)
			}
		}
	}
}
