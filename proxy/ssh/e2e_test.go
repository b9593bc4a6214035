package sshproxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/store"
)

func TestExecHoldsUntilApproved(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p := startProcess(t, e.sshCommand(ctx, e.user(), "-o", "SetEnv=JITGATE_REASON='deploy the fix' JITGATE_TICKET=INC-7", "127.0.0.1", "id -un; echo ok"))
	id := p.requestID()
	p.waitLine(regexp.MustCompile(`^jitgate: approve or deny it at https://jitgate.test/requests/`+strconv.FormatInt(id, 10)+`$`), 5*time.Second)
	p.waitLine(regexp.MustCompile(`^jitgate: waiting until .* UTC; press Ctrl-C to stop waiting$`), 5*time.Second)
	g := e.approve(id)
	p.waitLine(regexp.MustCompile(`^jitgate: access request \d+ approved by bob; grant `+strconv.FormatInt(g.ID, 10)+` ends at `), 10*time.Second)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	if got, want := p.stdout.String(), e.login+"\nok\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}

	req, err := e.store.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.Reason != "deploy the fix" || req.Ticket != "INC-7" {
		t.Errorf("request reason, ticket = %q, %q; want the SetEnv values %q, %q", req.Reason, req.Ticket, "deploy the fix", "INC-7")
	}

	minted := e.events(audit.CredentialMinted)
	if len(minted) != 1 {
		t.Fatalf("credential.minted events = %d, want 1", len(minted))
	}
	var details struct {
		KeyID       string    `json:"key_id"`
		ValidBefore time.Time `json:"valid_before"`
		Principals  []string  `json:"principals"`
		Extensions  []string  `json:"extensions"`
	}
	if err := json.Unmarshal(minted[0].Details, &details); err != nil {
		t.Fatal(err)
	}
	if !details.ValidBefore.Equal(g.End.Truncate(time.Second)) {
		t.Errorf("certificate valid_before = %v, want the window end %v", details.ValidBefore, g.End.Truncate(time.Second))
	}
	if len(details.Principals) != 1 || details.Principals[0] != e.login {
		t.Errorf("certificate principals = %q, want [%s]", details.Principals, e.login)
	}
	if strings.Join(details.Extensions, ",") != "permit-pty" {
		t.Errorf("certificate extensions = %q, want only permit-pty", details.Extensions)
	}
	wantID := "jitgate person=alice request=" + strconv.FormatInt(id, 10) + " grant=" + strconv.FormatInt(g.ID, 10)
	if !strings.HasPrefix(details.KeyID, wantID) {
		t.Errorf("certificate key id = %q, want it to start with %q", details.KeyID, wantID)
	}
	if !strings.Contains(e.sshd.ReadLog(), `Accepted certificate ID "`+details.KeyID+`"`) {
		t.Errorf("the sshd log does not show the certificate %q being accepted", details.KeyID)
	}
}

func TestRevocationClosesSessionAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), "127.0.0.1"), 80, 24)
	prompt := waitPrompt(term)
	term.send("echo ready-$((1+1))\r")
	at := term.waitFor("ready-2", prompt, 20*time.Second)
	if _, err := e.engine.Revoke(ctx, g.ID, "bob", "incident over"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("jitgate: grant "+strconv.FormatInt(g.ID, 10)+" was revoked by bob; the session is closed", at, 10*time.Second)
	if code := term.wait(10 * time.Second); code != 255 {
		t.Errorf("ssh exit code = %d, want 255 (closed without an exit status)", code)
	}
}

func TestRejectionsShowReasonAndOpenNothing(t *testing.T) {
	tests := []struct {
		name string
		user func(e *env) string
		env  []string
		// decide acts on the request once it waits; nil means the rejection
		// comes before any request.
		decide func(e *env, id int64)
		want   string
	}{
		{
			name: "denied",
			user: (*env).user,
			decide: func(e *env, id int64) {
				if _, err := e.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: "bob", Comment: "not during the freeze"}); err != nil {
					e.t.Fatal(err)
				}
			},
			want: "was denied by bob: not during the freeze",
		},
		{
			name:   "expired",
			user:   (*env).user,
			decide: func(e *env, id int64) { e.fake.Advance(31 * time.Minute) },
			want:   "expired at",
		},
		{
			name: "unknown target",
			user: func(e *env) string { return e.login + "@web-9" },
			want: `jitgate: unknown target "web-9"; connect as LOGIN@TARGET with one of these targets: web-1`,
		},
		{
			name: "login outside scope",
			user: func(*env) string { return "root@web-1" },
			want: "jitgate: no contract lets anyone use login root on web-1",
		},
		{
			name: "login not on target",
			user: func(*env) string { return "nobody@web-1" },
			want: `jitgate: login "nobody" is not available on web-1; use one of: `,
		},
		{
			name: "no target in user",
			user: func(e *env) string { return e.login },
			want: "names no target; connect as LOGIN@TARGET",
		},
		{
			name: "target without login",
			user: func(*env) string { return "web-1" },
			want: `jitgate: the SSH user "web-1" is a target but names no login; connect as LOGIN@web-1, for example `,
		},
		{
			name: "invalid duration",
			user: (*env).user,
			env:  []string{"-o", "SetEnv=JITGATE_DURATION=soon"},
			want: `JITGATE_DURATION="soon" is not a duration`,
		},
	}
	e := newEnv(t, envOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sshdLog := len(e.sshd.ReadLog())
			args := append(tt.env, "127.0.0.1", "echo must-not-run")
			p := startProcess(t, e.sshCommand(ctx, tt.user(e), args...))
			if tt.decide != nil {
				tt.decide(e, p.requestID())
			}
			if code := p.wait(30 * time.Second); code != 1 {
				t.Errorf("exit code = %d, want 1; stderr:\n%s", code, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, p.stderr.String())
			}
			if strings.Contains(p.stdout.String(), "must-not-run") {
				t.Errorf("the command ran: stdout = %q", p.stdout.String())
			}
			if n := len(e.events(audit.CredentialMinted)); n != 0 {
				t.Errorf("credential.minted events = %d, want 0", n)
			}
			if log := e.sshd.ReadLog()[sshdLog:]; strings.Contains(log, "Connection from") {
				t.Errorf("the rejected connection reached sshd:\n%s", log)
			}
		})
	}
}

func TestReasonRequiredWithoutTerminal(t *testing.T) {
	e := newEnv(t, envOptions{reasonRequired: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	stdout, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "127.0.0.1", "true"), nil)
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stdout %q", code, stdout)
	}
	for _, want := range []string{"jitgate: contract ops requires a reason", "ssh -o SetEnv=\"JITGATE_REASON="} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
	reqs, err := e.store.Requests(ctx, store.RequestFilter{})
	if err != nil || len(reqs) != 0 {
		t.Errorf("requests = %v, %v; want none", reqs, err)
	}
}

func TestCtrlCStopsWaiting(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), "-o", "SetEnv=JITGATE_REASON=check", "127.0.0.1"), 80, 24)
	id, at := waitRequestOnTerminal(t, term, 0)
	term.waitFor("press Ctrl-C to stop waiting", at, 5*time.Second)
	term.send("ls\r\x03")
	term.waitFor("jitgate: stopped waiting; access request "+strconv.FormatInt(id, 10)+" stays open", at, 30*time.Second)
	if code := term.wait(10 * time.Second); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	req, err := e.store.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.RequestPending {
		t.Errorf("request state = %s, want pending: stopping the wait leaves the request for the approver", req.State)
	}
}

func TestIdleTimeoutClosesSession(t *testing.T) {
	e := newEnv(t, envOptions{idleTimeout: "10m"})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), "127.0.0.1"), 80, 24)
	prompt := waitPrompt(term)
	term.send("echo typed-$((2+2))\r")
	at := term.waitFor("typed-4", prompt, 20*time.Second)
	e.fake.Advance(10*time.Minute + time.Second)
	term.waitFor("jitgate: session closed after 10m0s without input", at, 10*time.Second)
	if code := term.wait(10 * time.Second); code != 255 {
		t.Errorf("exit code = %d, want 255", code)
	}
}

func TestShutdownEndsLiveSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), testHost), 80, 24)
	prompt := waitPrompt(term)
	term.send("echo up-$((3+3))\r")
	at := term.waitFor("up-6", prompt, 20*time.Second)
	e.stop()
	term.waitFor("jitgate: jitgate is shutting down; reconnect to continue", at, 10*time.Second)
	if code := term.wait(10 * time.Second); code != 255 {
		t.Errorf("exit code = %d, want 255", code)
	}
	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions = %v, %v; want one", sessions, err)
	}
	if s := e.waitSessionEnd(sessions[0].ID); s.EndReason != "shutdown" {
		t.Errorf("session end reason = %q, want shutdown", s.EndReason)
	}
}

// tcpRelay copies TCP connections from a loopback listener to a fixed
// address, and cut drops them all, as a network failure between jitgate
// and the target would.
type tcpRelay struct {
	t *testing.T
	l net.Listener

	// mu guards conns.
	mu    sync.Mutex
	conns []net.Conn
}

func startRelay(t *testing.T) *tcpRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRelay{t: t, l: l}
	t.Cleanup(func() { l.Close(); r.cut() })
	return r
}

// serve relays connections to addr until the listener closes.
func (r *tcpRelay) serve(addr string) {
	for {
		in, err := r.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", addr)
		if err != nil {
			in.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, in, out)
		r.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (r *tcpRelay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func TestTargetHangupEndsSession(t *testing.T) {
	relay := startRelay(t)
	e := newEnv(t, envOptions{targetAddress: func(sshdAddr string) string {
		go relay.serve(sshdAddr)
		return relay.l.Addr().String()
	}})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), testHost), 80, 24)
	prompt := waitPrompt(term)
	term.send("echo up-$((4+4))\r")
	at := term.waitFor("up-8", prompt, 20*time.Second)
	relay.cut()
	term.waitFor("jitgate: the connection to web-1 closed", at, 20*time.Second)
	if code := term.wait(10 * time.Second); code != 255 {
		t.Errorf("exit code = %d, want 255", code)
	}
	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions = %v, %v; want one", sessions, err)
	}
	if s := e.waitSessionEnd(sessions[0].ID); s.EndReason != "error" {
		t.Errorf("session end reason = %q, want error", s.EndReason)
	}
}
