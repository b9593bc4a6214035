package sshproxy

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/testenv"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

// sharedStateDir holds the front door's host keys for every test in the
// package, so the RSA host key is generated once.
var sharedStateDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jitgate-sshproxy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedStateDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// envOptions varies the test environment.
type envOptions struct {
	// contract is YAML merged into the test contract (indented to fit).
	reasonRequired bool
	window         string // window.max; default 30m
	pendingTTL     string // default 30m
	idleTimeout    string
	recording      string // recording.ssh; default output
	redact         []string
	warnBefore     string // sessions.warn_before; default [5m, 1m]
	permit         credentials.Permissions
	sshd           localtarget.SSHDOptions
	// directKey adds the person's key to sshd's authorized_keys for
	// direct connections, the oracle of differential tests.
	directKey bool
	// realClock uses the wall clock instead of a fake one.
	realClock bool
	// aliceKeys are more authorized_keys lines for alice.
	aliceKeys []string
	// loginCAKeys are authorized_keys lines of login CAs.
	loginCAKeys []string
	// userCAKeyFile, when set, is an existing key file for jitgate's user
	// CA, for example an RSA key.
	userCAKeyFile string
	// hostKeys picks the target host keys the config pins; nil pins all.
	hostKeys func(sshd []ssh.PublicKey) []ssh.PublicKey
	// loginGraceTime shortens Options.LoginGraceTime.
	loginGraceTime time.Duration
	// closeWait and closeGrace replace Options.CloseWait and the test's
	// CloseGrace.
	closeWait, closeGrace time.Duration
	// targetAddress, when set, replaces the sshd address in the config,
	// for a relay between jitgate and sshd.
	targetAddress func(sshdAddr string) string
}

// env is one front door with its engine, store and a real sshd target.
type env struct {
	t        *testing.T
	dir      string
	cfg      *configs.Config
	store    store.Store
	engine   *approval.Engine
	registry *session.Registry
	clock    clock.Clock
	fake     *clock.Fake
	srv      *Server
	addr     string
	port     int
	sshd     *localtarget.SSHD
	ca       *credentials.SSHCA
	// keyPath is alice's private key file; bobKeyPath is bob's.
	keyPath    string
	bobKeyPath string
	aliceKey   ssh.Signer
	login      string
	// logs holds the server log, for tests that check what operators see.
	logs syncBuffer
	// stop ends Serve and waits for it to return.
	stop func()
}

const testConfig = `
public_url: https://jitgate.test
listen:
  ssh: 127.0.0.1:2222
ssh:
  host_key_file: {{.HostKeyFile}}
  max_auth_tries: 4
{{- if .LoginCAKeys}}
  login_ca_keys:
{{- range .LoginCAKeys}}
    - "{{.}}"
{{- end}}
{{- end}}
sessions:
  warn_before: {{.WarnBefore}}
identities:
  users:
    - name: alice
      groups: [engineers]
      ssh_keys:
{{- range .AliceKeys}}
        - "{{.}}"
{{- end}}
    - name: bob
      groups: [approvers]
      ssh_keys: ["{{.BobKey}}"]
targets:
  ssh:
    - name: web-1
      address: {{.SSHDAddr}}
      host_keys:
{{- range .HostKeys}}
        - "{{.}}"
{{- end}}
      logins: [{{.Login}}, root]
contracts:
  - id: ops
    party: Operations
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [{{.Login}}]
    request:
      reason_required: {{.ReasonRequired}}
    approval:
      approvers:
        groups: [approvers]
      pending_ttl: {{.PendingTTL}}
    window:
      default: {{.Window}}
      max: {{.Window}}
{{- if .IdleTimeout}}
      idle_timeout: {{.IdleTimeout}}
{{- end}}
    recording:
      ssh: {{.Recording}}
{{- if .Redact}}
      redact:
{{- range .Redact}}
        - '{{.}}'
{{- end}}
{{- end}}
    retention:
      events: 400d
      recordings: 400d
`

func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	e := &env{t: t, dir: testenv.TempDir(t)}
	alice, aliceLine := e.writeKey("alice")
	_, bobLine := e.writeKey("bob")
	e.aliceKey = alice
	e.keyPath = filepath.Join(e.dir, "alice")
	e.bobKeyPath = filepath.Join(e.dir, "bob")

	caPath := filepath.Join(e.dir, "user_ca")
	if opts.userCAKeyFile != "" {
		caPath = opts.userCAKeyFile
	}
	ca, err := credentials.LoadOrCreateCA(caPath)
	if err != nil {
		t.Fatal(err)
	}
	e.ca = ca
	sshdOpts := opts.sshd
	sshdOpts.UserCAKeys = append(sshdOpts.UserCAKeys, ca.AuthorizedKey())
	if opts.directKey {
		sshdOpts.AuthorizedKeys = append(sshdOpts.AuthorizedKeys, aliceLine)
	}
	e.sshd = testenv.SSHD(t, sshdOpts)
	e.login = e.sshd.Login

	e.cfg = e.parseConfig(opts, aliceLine, bobLine)
	e.start(opts)
	return e
}

func (e *env) parseConfig(opts envOptions, aliceLine, bobLine string) *configs.Config {
	e.t.Helper()
	var hostKeys []string
	pinned := e.sshd.HostKeys
	if opts.hostKeys != nil {
		pinned = opts.hostKeys(pinned)
	}
	for _, k := range pinned {
		hostKeys = append(hostKeys, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
	}

	targetAddr := e.sshd.Addr
	if opts.targetAddress != nil {
		targetAddr = opts.targetAddress(targetAddr)
	}
	data := map[string]any{
		"HostKeyFile": filepath.Join(sharedStateDir, "ssh_host_ed25519_key"),
		"AliceKeys":   append([]string{aliceLine}, opts.aliceKeys...), "BobKey": bobLine,
		"LoginCAKeys": opts.loginCAKeys,
		"SSHDAddr":    targetAddr, "HostKeys": hostKeys, "Login": e.sshd.Login,
		"ReasonRequired": opts.reasonRequired,
		"PendingTTL":     defaultString(opts.pendingTTL, "30m"),
		"Window":         defaultString(opts.window, "30m"),
		"IdleTimeout":    opts.idleTimeout,
		"Recording":      defaultString(opts.recording, "output"),
		"Redact":         opts.redact,
		"WarnBefore":     defaultString(opts.warnBefore, "[5m, 1m]"),
	}

	var buf bytes.Buffer
	if err := template.Must(template.New("config").Parse(testConfig)).Execute(&buf, data); err != nil {
		e.t.Fatal(err)
	}
	cfg, err := configs.Parse(filepath.Join(e.dir, "jitgate.yaml"), buf.Bytes())
	if err != nil {
		e.t.Fatalf("test config does not parse: %v\n%s", err, buf.String())
	}
	return cfg
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// start opens the store and engine and runs the front door on loopback.
func (e *env) start(opts envOptions) {
	t := e.t
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), &e.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))

	if opts.realClock {
		e.clock = clock.Real{}
	} else {
		e.fake = clock.NewFake(time.Now())
		e.clock = e.fake
	}
	db, err := sqlite.Open(ctx, filepath.Join(e.dir, "jitgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.store = db
	engine, err := approval.New(approval.Options{Config: e.cfg, Store: db, Audit: audit.New(db, e.clock), Clock: e.clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.engine = engine
	var warn []time.Duration
	for _, d := range e.cfg.Sessions.WarnBefore {
		warn = append(warn, d.Std())
	}
	e.registry = session.New(session.Options{
		Engine: engine, Clock: e.clock, WarnBefore: warn, Logger: log,
		IdleTimeout: func(g *store.Grant) time.Duration {
			if c := e.cfg.Contract(g.ContractID); c != nil {
				return c.Window.IdleTimeout.Std()
			}
			return 0
		},
	})
	people, err := identity.NewStatic(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs := recordings.NewFS(e.cfg.Recordings.Dir)
	fs.Clock = e.clock
	permit := opts.permit
	if permit == (credentials.Permissions{}) {
		permit.PTY = true
	}
	srv, err := New(Options{
		Config: e.cfg, Engine: engine, Registry: e.registry, Identity: people, CA: e.ca, Recordings: fs,
		Clock: e.clock, Logger: log, StateDir: sharedStateDir,
		Permissions: func(*configs.Contract) credentials.Permissions { return permit },
		// The default CloseGrace. With 500 ms, one CI run's window-end test
		// saw ssh exit without the window-end message. The likely cause is
		// a client slowed by the load that lost its connection before it
		// wrote the message to its terminal. jitgate then closed the socket
		// at the end of the grace. It now sends a FIN after the last lines
		// first (see TestWindowEndFINReachesStoppedClient).
		CloseGrace:     cmp.Or(opts.closeGrace, defaultCloseGrace),
		CloseWait:      opts.closeWait,
		LoginGraceTime: opts.loginGraceTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = l.Addr().String()
	e.port = l.Addr().(*net.TCPAddr).Port
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	var stopOnce sync.Once
	e.stop = func() {
		stopOnce.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Serve did not return within 15s of the context ending")
			}
		})
	}
	t.Cleanup(func() {
		e.stop()
		db.Close()
	})
}

// writeKey writes a new ed25519 private key file named name and returns
// the signer and its authorized_keys line.
func (e *env) writeKey(name string) (ssh.Signer, string) {
	e.t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(private, name)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		e.t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		e.t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if err := os.WriteFile(path+".pub", []byte(line+"\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return signer, line
}

// user is the SSH user for login on web-1.
func (e *env) user() string { return e.login + "@web-1" }

// sshArgs returns the options every test client uses: no host key prompts,
// no agent, only the given key, and batch mode so nothing waits for a
// password.
func (e *env) sshArgs(key string) []string {
	return []string{
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10", "-i", key,
	}
}

// testHost is the destination every test client connects to.
const testHost = "127.0.0.1"

// sshCommand returns ssh to the front door as user. extra holds options,
// then testHost and the command. The standard options go after the
// caller's, because ssh keeps the first value it reads for an option.
func (e *env) sshCommand(ctx context.Context, user string, extra ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ssh", e.withStandardOptions(extra, e.port, user, e.keyPath)...)
}

// withStandardOptions inserts the standard options with key, the port and
// the user before the destination testHost in args.
func (e *env) withStandardOptions(args []string, port int, user, key string) []string {
	i := slices.Index(args, testHost)
	if i < 0 {
		e.t.Fatalf("ssh arguments %q name no destination %s", args, testHost)
	}
	out := append([]string{}, args[:i]...)
	out = append(out, e.sshArgs(key)...)
	out = append(out, "-p", strconv.Itoa(port), "-l", user)
	return append(out, args[i:]...)
}

// grant opens and approves a request for alice, so later connections
// find an active grant.
func (e *env) grant() *store.Grant {
	e.t.Helper()
	ctx := context.Background()
	sub, err := e.engine.Submit(ctx, approval.Ask{Requester: "alice", Kind: approval.KindSSH, Target: "web-1",
		Principal: e.login, Reason: "test setup"})
	if err != nil {
		e.t.Fatal(err)
	}
	dec, err := e.engine.Decide(ctx, approval.Vote{RequestID: sub.Request.ID, Approver: "bob", Approve: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if dec.Grant == nil {
		e.t.Fatal("approval created no grant")
	}
	return dec.Grant
}

// approve approves request id as bob.
func (e *env) approve(id int64) *store.Grant {
	e.t.Helper()
	dec, err := e.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: "bob", Approve: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return dec.Grant
}

// events returns the audit events of type typ.
func (e *env) events(typ string) []*store.Event {
	e.t.Helper()
	var out []*store.Event
	err := e.store.Events(context.Background(), store.EventFilter{}, func(ev *store.Event) error {
		if ev.Type == typ {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// process is a running client program whose stderr lines are watched.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	lines  chan string
	done   chan struct{}
	err    error
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
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

// startProcess starts cmd with stdout captured and stderr both captured
// and split into lines.
func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{t: t, cmd: cmd, lines: make(chan string, 256), done: make(chan struct{})}
	cmd.Stdout = &p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("started pid %d: %s", cmd.Process.Pid, strings.Join(cmd.Args, " "))
	go func() {
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			line := scanner.Text()
			p.stderr.Write([]byte(line + "\n"))
			select {
			case p.lines <- line:
			default:
			}
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitLine waits up to timeout for a stderr line matching re and returns
// its submatches.
func (p *process) waitLine(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("stderr ended without a line matching %q; stderr:\n%s", re, p.stderr.String())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-deadline:
			p.t.Fatalf("no stderr line matching %q within %v; stderr so far:\n%s", re, timeout, p.stderr.String())
		}
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code.
func (p *process) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v; stderr so far:\n%s", p.cmd.Args[0], timeout, p.stderr.String())
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return exitErr.ExitCode()
	}
	if p.err != nil {
		p.t.Fatalf("%s: %v", p.cmd.Args[0], p.err)
	}
	return 0
}

// requestLine matches the hold line and captures the request id.
var requestLine = regexp.MustCompile(`^jitgate: access request (\d+) for login \S+ on web-1 (is|was already) waiting for approval`)

// requestID waits for the hold line and returns the request id.
func (p *process) requestID() int64 {
	p.t.Helper()
	m := p.waitLine(requestLine, 20*time.Second)
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// runSSH runs ssh to completion and returns stdout, stderr and the exit
// code.
func runSSH(t *testing.T, cmd *exec.Cmd, stdin io.Reader) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return stdout.String(), stderr.String(), exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return stdout.String(), stderr.String(), 0
}
