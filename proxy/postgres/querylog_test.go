package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitgate/jitgate/store"
)

type logLine struct {
	Type         string   `json:"type"`
	Text         string   `json:"text"`
	Params       []string `json:"params"`
	Tag          string   `json:"tag"`
	Rows         int64    `json:"rows"`
	ErrorCode    string   `json:"error_code"`
	ErrorMessage string   `json:"error_message"`
	Who          string   `json:"who"`
	Role         string   `json:"role"`
	Upstream     string   `json:"upstream_role"`
	Approvers    []string `json:"approvers"`
	Grant        int64    `json:"grant"`
	Session      int64    `json:"session"`
}

// sessionLog runs fn on a connection through jitgate, closes it and
// returns the lines of the session's sealed query log.
func sessionLog(t *testing.T, o envOptions, fn func(conn *pgx.Conn)) (header logLine, lines []logLine) {
	t.Helper()
	e := newEnv(t, o)
	g := e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	fn(conn)
	conn.Close(context.Background())
	return closedSessionLog(t, e, g, o.recording == "off")
}

// closedSessionLog waits until g's one session is closed and returns the
// lines of its sealed query log, checking the stored hash. With
// recordingOff it checks that there is no log instead.
func closedSessionLog(t *testing.T, e *env, g *store.Grant, recordingOff bool) (header logLine, lines []logLine) {
	t.Helper()
	var s *store.Session
	e.waitStore(10*time.Second, "the session closed", func() bool {
		ss, _ := e.store.Sessions(t.Context(), store.SessionFilter{GrantID: g.ID, States: []store.SessionState{store.SessionClosed}})
		if len(ss) == 1 {
			s = ss[0]
		}
		return s != nil
	})
	if recordingOff {
		if s.Recording != "" {
			t.Errorf("recording %q with recording.postgres: off", s.Recording)
		}
		return header, nil
	}
	data, err := os.ReadFile(s.Recording)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != s.RecordingHash {
		t.Errorf("recording hash %s does not match the file", s.RecordingHash)
	}
	for i, raw := range readLines(t, s.Recording) {
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, raw)
		}
		if i == 0 {
			header = l
			continue
		}
		lines = append(lines, l)
	}
	return header, lines
}

// A statement still running when the window ends gets no result from
// the server, and the log must still show it, with why it has none.
func TestQueryLogStatementCutAtWindowEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	const q = "select pg_sleep(60)"
	result := e.execSleeping(t, conn, q)

	e.fake.Set(g.End)
	select {
	case err := <-result:
		if err == nil {
			t.Fatal("pg_sleep returned without an error at the window end")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pg_sleep still ran 10s after the window end")
	}
	_, lines := closedSessionLog(t, e, g, false)
	l := findLine(lines, q)
	if l == nil {
		t.Fatalf("no log line for %q; lines: %+v", q, lines)
	}
	if !strings.Contains(l.ErrorMessage, "window-end") {
		t.Errorf("error_message = %q, want the window end named", l.ErrorMessage)
	}
	if l.Tag != "" {
		t.Errorf("tag = %q, want none, because the server sent no result", l.Tag)
	}
	if l.ErrorCode != "" {
		t.Errorf("error_code = %q, want none, because the server sent no result", l.ErrorCode)
	}
}

func findLine(lines []logLine, text string) *logLine {
	for i := range lines {
		if lines[i].Text == text {
			return &lines[i]
		}
	}
	return nil
}

func TestQueryLogStatements(t *testing.T) {
	ctx := context.Background()
	header, lines := sessionLog(t, envOptions{parameters: "on", redact: []string{`secret-[0-9]+`}}, func(conn *pgx.Conn) {
		simple := pgx.QueryExecModeSimpleProtocol
		conn.Exec(ctx, "insert into t values (1, 'a'), (2, 'b')", simple)
		conn.Exec(ctx, "select id from t; select 'secret-42'", simple)
		conn.Exec(ctx, "select 1/0", simple)
		conn.Exec(ctx, "select $1::text, $2::int", "hello", 7)
		conn.PgConn().CopyFrom(ctx, strings.NewReader("3\tc\n4\td\n5\te\n"), "copy t from stdin")
		b := &pgx.Batch{}
		b.Queue("select $1::int / 0", 1)
		b.Queue("select 'skipped'::text")
		conn.SendBatch(ctx, b).Close()
		conn.Exec(ctx, "select $1::bytea", make([]byte, 5000))
	})

	if header.Who != "alice" || header.Role != "readwrite" || !strings.HasPrefix(header.Upstream, "jitgate_g") || len(header.Approvers) != 1 || header.Approvers[0] != "bob" {
		t.Errorf("header = %+v", header)
	}
	tests := []struct {
		text   string
		tag    string
		rows   int64
		code   string
		params []string
	}{
		{text: "insert into t values (1, 'a'), (2, 'b')", tag: "INSERT 0 2", rows: 2},
		{text: "select $1::text, $2::int", tag: "SELECT 1", rows: 1, params: []string{"hello", `\x00000007`}},
		{text: "copy t from stdin", tag: "COPY 3", rows: 3},
		{text: "select 1/0", code: "22012"},
		{text: "select $1::int / 0", code: "22012", params: []string{`\x00000001`}},
	}
	for _, tt := range tests {
		l := findLine(lines, tt.text)
		if l == nil {
			t.Errorf("no log line for %q; lines: %+v", tt.text, lines)
			continue
		}
		if l.Tag != tt.tag || l.Rows != tt.rows || l.ErrorCode != tt.code || strings.Join(l.Params, ",") != strings.Join(tt.params, ",") {
			t.Errorf("line for %q = tag %q rows %d code %q params %q; want %q %d %q %q",
				tt.text, l.Tag, l.Rows, l.ErrorCode, l.Params, tt.tag, tt.rows, tt.code, tt.params)
		}
	}
	multi := 0
	for _, l := range lines {
		if l.Text == "select id from t; select '[REDACTED]'" {
			multi++
		}
		if strings.Contains(l.Text, "secret-42") {
			t.Errorf("query text kept a redacted secret: %q", l.Text)
		}
		if l.Text == "select 'skipped'::text" {
			t.Error("a statement the server skipped after an error was logged")
		}
	}
	if multi != 2 {
		t.Errorf("a Query with two statements gave %d log lines, want 2", multi)
	}
	if l := findLine(lines, "select $1::bytea"); l == nil || !strings.HasSuffix(l.Params[0], "[cut from 5000 bytes]") {
		t.Errorf("long parameter not cut: %+v", l)
	}
}

func TestQueryLogParameterModes(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{mode: "redacted", want: []string{"[REDACTED len=6]", "NULL"}},
		{mode: "off", want: nil},
		{mode: "on", want: []string{"s3cret", "NULL"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			_, lines := sessionLog(t, envOptions{parameters: tt.mode}, func(conn *pgx.Conn) {
				conn.Exec(context.Background(), "select $1::text, $2::text", "s3cret", nil)
			})
			l := findLine(lines, "select $1::text, $2::text")
			if l == nil {
				t.Fatalf("no log line; lines %+v", lines)
			}
			if strings.Join(l.Params, "|") != strings.Join(tt.want, "|") {
				t.Errorf("params = %q, want %q", l.Params, tt.want)
			}
		})
	}
}

func TestQueryLogOff(t *testing.T) {
	sessionLog(t, envOptions{recording: "off"}, func(conn *pgx.Conn) {
		conn.Exec(context.Background(), "select 1")
	})
}
