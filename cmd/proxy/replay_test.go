package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/recordings"
)

func TestReplayQueryLogTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postgres-1-0.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	log, err := recordings.NewQueryLog(f, recordings.QueryLogHeader{Start: start, Person: "alice", Target: "orders", Role: "readonly", GrantID: 4})
	if err != nil {
		t.Fatal(err)
	}
	log.Record(recordings.QueryEvent{Start: start.Add(time.Second), Duration: 2 * time.Millisecond, Text: "select *\n  from orders", Tag: "SELECT 6", Rows: 6})
	log.Record(recordings.QueryEvent{Start: start.Add(2 * time.Second), Text: "delete from orders", ErrorCode: "42501", ErrorMessage: "permission denied for table orders"})
	log.Record(recordings.QueryEvent{Start: start.Add(3 * time.Second), Text: "select pg_sleep(60)", ErrorMessage: "jitgate: no result, because the session ended first (window-end)"})
	log.Close()
	f.Close()

	res := jitgate(t, "", "", "", "replay", path)
	if res.code != 0 {
		t.Fatalf("exit status = %d, want 0", res.code)
	}
	for _, want := range []string{
		"session of alice on orders as readonly, grant 4",
		"10:00:01.000  2ms",
		"select * from orders",
		"42501 permission denied for table orders",
		"  jitgate: no result, because the session ended first (window-end)  select pg_sleep(60)",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestReplayCastOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssh-1-0.cast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cast, err := recordings.NewCast(f, recordings.CastHeader{Width: 80, Height: 24, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	cast.Output(start.Add(time.Second), []byte("$ id -un\r\n"))
	cast.Output(start.Add(90*time.Second), []byte("deploy\r\n"))
	cast.Close(start.Add(91 * time.Second))
	f.Close()

	began := time.Now()
	res := jitgate(t, "", "", "", "replay", "--max-idle", "10ms", path)
	if res.code != 0 {
		t.Fatalf("exit status = %d, want 0", res.code)
	}
	if res.stdout != "$ id -un\r\ndeploy\r\n" {
		t.Errorf("output = %q, want the recorded output", res.stdout)
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("replay took %s; --max-idle did not cap the 89s pause", took)
	}
}
