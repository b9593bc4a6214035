package postgres

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/testenv"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Tokens of the test people; the config holds their hashes.
const (
	aliceToken = "alice-test-token"
	bobToken   = "bob-test-token"
	carolToken = "carol-test-token"
)

// envOptions shape the config of one test environment.
type envOptions struct {
	pendingTTL  string // default 30m
	window      string // default and max window, default 1h
	maxSessions int
	idleTimeout string
	parameters  string // recording.parameters, default redacted
	recording   string // recording.postgres, default queries
	redact      []string
	plaintext   bool // insecure_allow_plaintext_on_loopback
	noTLS       bool // no certificate at all
	breakGlass  bool
	roles       []string // roles in scope, default [readwrite]
	warnBefore  string   // default [5m, 1m]
	realClock   bool
	perSource   int // postgres.max_connections_per_source, default 50
}

// env is a running front door in front of a real PostgreSQL database.
type env struct {
	t         *testing.T
	plainLegs bool // TLS on neither leg; see plainLegsEnv
	pg        *localtarget.Postgres
	db        string // the target's database, also the target name
	cfg       *configs.Config
	cfgPath   string
	store     *sqlite.DB
	engine    *approval.Engine
	registry  *session.Registry
	clock     clock.Clock
	fake      *clock.Fake // nil with the real clock
	srv       *Server
	host      string
	port      int
	recDir    string
	stateDir  string
}

func sha(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// plainLegsEnv, set to 1, runs the tests with TLS on neither leg: the
// client connects with sslmode=disable and jitgate connects upstream with
// tls: disable. The relay then reads both sockets through their RawConn
// (see wire.NewPump), which TLS connections never do. make test runs the
// package a second time this way, and tests of the TLS negotiation skip
// themselves (needsTLS).
const plainLegsEnv = "JITGATE_TEST_PG_PLAIN_LEGS"

// needsTLS skips a test of the TLS negotiation itself when the tests run
// on plain legs, which have none.
func needsTLS(t *testing.T) {
	t.Helper()
	if os.Getenv(plainLegsEnv) == "1" {
		t.Skip("tests the TLS negotiation, and " + plainLegsEnv + " turns TLS off")
	}
}

// newEnv starts PostgreSQL (shared per test binary), a fresh database with
// table t, and a front door on 127.0.0.1 for target "app".
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	pg := testenv.SharedPostgres(t)
	e := &env{t: t, pg: pg, db: testenv.Database(t, pg), host: "127.0.0.1"}
	if os.Getenv(plainLegsEnv) == "1" {
		o.plaintext, o.noTLS, e.plainLegs = true, true, true
	}
	e.prepareDatabase(o)
	dir := t.TempDir()
	e.recDir = filepath.Join(dir, "recordings")
	e.stateDir = filepath.Join(dir, "state")
	e.cfgPath = filepath.Join(dir, "jitgate.yaml")
	pwFile := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(pwFile, []byte(pg.AdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := e.configYAML(o, pwFile)
	if err := os.WriteFile(e.cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(e.cfgPath)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	e.cfg = cfg
	if o.realClock {
		e.clock = clock.Real{}
	} else {
		e.fake = clock.NewFake(time.Now())
		e.clock = e.fake
	}
	e.start(t)
	return e
}

// start builds the store, engine, registry and server and serves on a new
// loopback listener until the test ends.
func (e *env) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(e.cfgPath), "jitgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.store = st

	logger := testLogger(t)
	e.engine, err = approval.New(approval.Options{
		Config: e.cfg, Store: st, Audit: audit.New(st, e.clock), Clock: e.clock, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.engine.Start(ctx); err != nil {
		t.Fatal(err)
	}

	var warn []time.Duration
	for _, d := range e.cfg.Sessions.WarnBefore {
		warn = append(warn, d.Std())
	}
	e.registry = session.New(session.Options{
		Engine: e.engine, Clock: e.clock, WarnBefore: warn, Logger: logger,
		IdleTimeout: func(g *store.Grant) time.Duration {
			if c := e.cfg.Contract(g.ContractID); c != nil {
				return c.Window.IdleTimeout.Std()
			}
			return 0
		},
	})

	ident, err := identity.NewStatic(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs := recordings.NewFS(e.recDir)
	fs.Clock = e.clock
	e.srv, err = New(Options{
		Config: e.cfg, Engine: e.engine, Registry: e.registry, Identity: ident, Store: st,
		Recordings: fs, Clock: e.clock, Logger: logger, StateDir: e.stateDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Sweep(ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("Serve did not return within 60 s of the shutdown")
		}
		st.Close()
	})
}

func (e *env) prepareDatabase(o envOptions) {
	t := e.t
	ctx := context.Background()
	admin := e.adminConn(e.db)
	defer admin.Close(ctx)
	for _, role := range []string{"readonly", "readwrite"} {
		_, err := admin.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE %s NOLOGIN; END IF;
			END $$`, role, role))
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{
		"CREATE TABLE t (id int, v text)",
		"GRANT ALL ON SCHEMA public TO readwrite",
		"GRANT USAGE ON SCHEMA public TO readonly",
		"GRANT ALL ON t TO readwrite",
		"GRANT SELECT ON t TO readonly",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func (e *env) configYAML(o envOptions, pwFile string) string {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	roles := o.roles
	if len(roles) == 0 {
		roles = []string{"readwrite"}
	}
	perSource := o.perSource
	if perSource == 0 {
		perSource = 50
	}
	upstreamTLS := "require"
	if e.plainLegs {
		upstreamTLS = "disable"
	}
	tls := "  tls:\n    self_signed: true\n"
	if o.noTLS {
		tls = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `public_url: http://127.0.0.1:8080
listen:
  postgres: 127.0.0.1:6432
postgres:
  insecure_allow_plaintext_on_loopback: %v
  max_connections_per_source: %d
%ssessions:
  warn_before: %s
identities:
  users:
    - name: alice
      groups: [engineers]
      api_tokens: [%q]
    - name: bob
      groups: [approvers]
      api_tokens: [%q]
    - name: carol
      groups: [approvers]
      api_tokens: [%q]
targets:
  postgres:
    - name: %s
      address: 127.0.0.1:%d
      database: %s
      admin_user: %s
      admin_password_file: %s
      roles: [readonly, readwrite]
      tls: %s
contracts:
  - id: db-access
    version: 1
    party: Test team
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: %s
        roles: [%s]
    approval:
      approvers:
        groups: [approvers]
      quorum: 1
      pending_ttl: %s
    window:
      default: %s
      max: %s
      max_sessions: %d
`, o.plaintext, perSource, tls, def(o.warnBefore, "[5m, 1m]"), sha(aliceToken), sha(bobToken), sha(carolToken),
		e.db, e.pg.Port, e.db, e.pg.AdminUser, pwFile, upstreamTLS,
		e.db, strings.Join(roles, ", "), def(o.pendingTTL, "30m"), def(o.window, "1h"), def(o.window, "1h"), o.maxSessions)
	if o.idleTimeout != "" {
		fmt.Fprintf(&b, "      idle_timeout: %s\n", o.idleTimeout)
	}
	fmt.Fprintf(&b, "    recording:\n      postgres: %s\n      parameters: %s\n", def(o.recording, "queries"), def(o.parameters, "redacted"))
	if len(o.redact) > 0 {
		b.WriteString("      redact:\n")
		for _, r := range o.redact {
			fmt.Fprintf(&b, "        - %q\n", r)
		}
	}
	if o.breakGlass {
		b.WriteString("    break_glass:\n      requesters:\n        users: [alice]\n      max_window: 1h\n      review_within: 24h\n      reviewers:\n        groups: [approvers]\n")
	}
	return b.String()
}

// adminConn connects directly to database as the cluster's admin: the
// oracle for checks upstream.
func (e *env) adminConn(database string) *pgx.Conn {
	e.t.Helper()
	conn, err := pgx.Connect(context.Background(), e.pg.DSN(database))
	if err != nil {
		e.t.Fatal(err)
	}
	return conn
}

// adminQuery runs a query as the admin and returns the first column of
// the first row as text.
func (e *env) adminQuery(sql string, args ...any) string {
	e.t.Helper()
	conn := e.adminConn(e.db)
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&out); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// proxyDSN returns a libpq keyword string for the front door.
func (e *env) proxyDSN(user string, extra ...string) string {
	parts := []string{
		"host=" + e.host, "port=" + strconv.Itoa(e.port), "user=" + user, "dbname=" + e.db,
		"sslmode=" + e.sslmode(), "connect_timeout=60",
	}
	return strings.Join(append(parts, extra...), " ")
}

// sslmode returns the client's sslmode for the front door.
func (e *env) sslmode() string {
	if e.plainLegs {
		return "disable"
	}
	return "require"
}

// tokenFor returns the API token of a test person.
func tokenFor(user string) string {
	switch user {
	case "bob":
		return bobToken
	case "carol":
		return carolToken
	}
	return aliceToken
}

// approve approves request id as bob.
func (e *env) approve(id int64) *store.Grant {
	e.t.Helper()
	d, err := e.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: "bob", Approve: true, Comment: "ok"})
	if err != nil {
		e.t.Fatalf("approving request %d: %v", id, err)
	}
	if d.Grant == nil {
		e.t.Fatalf("request %d approved without a grant", id)
	}
	return d.Grant
}

// grantAccess opens and approves a request for alice, so connections
// skip the hold.
func (e *env) grantAccess(role string) *store.Grant {
	e.t.Helper()
	sub, err := e.engine.Submit(context.Background(), approval.Ask{
		Requester: "alice", Kind: approval.KindPostgres, Target: e.db, Principal: role,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.approve(sub.Request.ID)
}

// waitStore blocks until cond holds, re-checking after each store change,
// for at most timeout.
func (e *env) waitStore(timeout time.Duration, what string, cond func() bool) {
	e.t.Helper()
	changes, cancel := e.store.Changes()
	defer cancel()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-changes:
		case <-deadline:
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// waitFor checks cond every 20 ms for at most timeout: for state outside
// jitgate, such as a backend in pg_stat_activity, that sends no event.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// psqlRun is a psql process.
type psqlRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr *lineBuffer
	done   chan struct{}
	err    error
}

// startPsql starts psql against dsn with the person's token.
func startPsql(t *testing.T, user, dsn, stdin string, args ...string) *psqlRun {
	t.Helper()
	p := startPsqlDeferred(t, user, dsn, stdin, args...)
	p.launch(t)
	return p
}

// startPsqlDeferred prepares a psql run; launch starts it.
func startPsqlDeferred(t *testing.T, user, dsn, stdin string, args ...string) *psqlRun {
	full := append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-At", "-d", dsn}, args...)
	cmd := exec.Command("psql", full...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PGPASSWORD=" + tokenFor(user), "HOME=" + t.TempDir(), "PGTZ=UTC"}
	cmd.Stdin = strings.NewReader(stdin)
	p := &psqlRun{cmd: cmd, stderr: newLineBuffer(), done: make(chan struct{})}
	cmd.Stdout = &p.stdout
	cmd.Stderr = p.stderr
	return p
}

func (p *psqlRun) launch(t *testing.T) {
	t.Helper()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting psql: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.stderr.close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// wait waits for psql to exit, at most timeout, and returns its exit code.
func (p *psqlRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("psql did not exit within %s; stderr:\n%s", timeout, p.stderr.String())
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("psql: %v", p.err)
	}
	return 0
}

// runPsql runs psql to its end and returns stdout, stderr and exit code.
func runPsql(t *testing.T, user, dsn, stdin string, args ...string) (string, string, int) {
	t.Helper()
	p := startPsql(t, user, dsn, stdin, args...)
	code := p.wait(t, 60*time.Second)
	return p.stdout.String(), p.stderr.String(), code
}

var requestIDPattern = regexp.MustCompile(`access request (\d+) `)

// waitRequestNotice waits for psql to print the hold notice and returns
// the request id in it.
func (p *psqlRun) waitRequestNotice(t *testing.T) int64 {
	t.Helper()
	line, ok := p.stderr.waitLine(30*time.Second, func(l string) bool { return requestIDPattern.MatchString(l) })
	if !ok {
		t.Fatalf("psql printed no access request notice; stderr:\n%s", p.stderr.String())
	}
	id, _ := strconv.ParseInt(requestIDPattern.FindStringSubmatch(line)[1], 10, 64)
	return id
}

// lineBuffer collects output and lets a test wait for a line.
type lineBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	lines   []string
	partial string
	wake    chan struct{}
	closed  bool
}

func newLineBuffer() *lineBuffer { return &lineBuffer{wake: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	text := b.partial + string(p)
	parts := strings.Split(text, "\n")
	b.partial = parts[len(parts)-1]
	b.lines = append(b.lines, parts[:len(parts)-1]...)
	close(b.wake)
	b.wake = make(chan struct{})
	return len(p), nil
}

func (b *lineBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.partial != "" {
		b.lines = append(b.lines, b.partial)
		b.partial = ""
	}
	b.closed = true
	close(b.wake)
	b.wake = make(chan struct{})
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine returns the first line that match accepts, waiting for more
// output until timeout or the end of the output.
func (b *lineBuffer) waitLine(timeout time.Duration, match func(string) bool) (string, bool) {
	deadline := time.After(timeout)
	seen := 0
	for {
		b.mu.Lock()
		for ; seen < len(b.lines); seen++ {
			if match(b.lines[seen]) {
				l := b.lines[seen]
				b.mu.Unlock()
				return l, true
			}
		}
		closed, wake := b.closed, b.wake
		b.mu.Unlock()
		if closed {
			return "", false
		}
		select {
		case <-wake:
		case <-deadline:
			return "", false
		}
	}
}

// testLogger writes the server log to the test log until the test ends.
func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// readLines returns the lines of a file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

var _ = io.EOF

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
