package sshproxy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/testenv"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		user    string
		want    route
		wantErr string
	}{
		{user: "deploy@web-1", want: route{login: "deploy", target: "web-1"}},
		{user: "svc@corp@web-1", want: route{login: "svc@corp", target: "web-1"}},
		{user: "deploy", wantErr: "names no target"},
		{user: "@web-1", wantErr: "names no login"},
		{user: "deploy@", wantErr: "names no target after the @"},
		{user: "de ploy@web-1", wantErr: "white space or control characters"},
		{user: "deploy@web-1\x00", wantErr: "white space or control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := parseRoute(tt.user)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRoute(%q) error = %v, want one containing %q", tt.user, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseRoute(%q) = %+v, %v; want %+v", tt.user, got, err, tt.want)
			}
		})
	}
}

func TestNameListCapsLongLists(t *testing.T) {
	tests := []struct {
		count int
		want  string
	}{
		{count: 1, want: "t1"},
		{count: maxListedNames, want: "t1, t2, t3, t4, t5, t6, t7, t8, t9, t10"},
		{count: maxListedNames + 3, want: "t1, t2, t3, t4, t5, t6, t7, t8, t9, t10 and 3 more"},
	}
	for _, tt := range tests {
		var names []string
		for i := 1; i <= tt.count; i++ {
			names = append(names, "t"+strconv.Itoa(i))
		}
		if got := nameList(names); got != tt.want {
			t.Errorf("nameList of %d names = %q, want %q", tt.count, got, tt.want)
		}
	}
}

func TestLineEditor(t *testing.T) {
	tests := []struct {
		name     string
		typed    string
		wantLine string
		wantEcho string
		want     editResult
	}{
		{"plain", "disk full\r", "disk full", "disk full\r\n", editDone},
		{"backspace", "diskk\x7f full\r", "disk full", "diskk\b \b full\r\n", editDone},
		{"kill line", "wrong\x15right\n", "right", "wrong\b \b\b \b\b \b\b \b\b \bright\r\n", editDone},
		{"arrow keys skipped", "a\x1b[Db\x1bOCc\x1b[1;5D\r", "abc", "abc\r\n", editDone},
		{"utf-8 erase", "caf\xc3\xa9\x7f\r", "caf", "caf\xc3\xa9\b \b\r\n", editDone},
		{"ctrl-c", "half\x03", "half", "half^C\r\n", editAbort},
		{"ctrl-d on empty", "\x04", "", "\r\n", editAbort},
		{"ctrl-d mid-line ignored", "ab\x04c", "abc", "abc", editMore},
		{"bytes after enter dropped", "x\rrest", "x", "x\r\n", editDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e lineEditor
			echo, result := e.feed([]byte(tt.typed))
			if result != tt.want || e.text() != tt.wantLine || string(echo) != tt.wantEcho {
				t.Errorf("feed(%q) = echo %q, result %d, line %q; want %q, %d, %q",
					tt.typed, echo, result, e.text(), tt.wantEcho, tt.want, tt.wantLine)
			}
		})
	}
	var long lineEditor
	long.feed([]byte(strings.Repeat("x", 2*maxPromptLen)))
	if len(long.text()) != maxPromptLen {
		t.Errorf("a long line kept %d bytes, want the cap %d", len(long.text()), maxPromptLen)
	}
}

// TestStdinWaitDropsEarlierKeys covers keys that reach the pump just
// before the hold switches it to waiting. They were typed before any
// approval, so the switch drops them, and a Ctrl-C among them stops the wait.
func TestStdinWaitDropsEarlierKeys(t *testing.T) {
	p := newStdinPump(&sessionChannel{})
	p.deliver([]byte("rm -rf build\r"))
	p.setWaiting(true)
	p.setWaiting(false)
	p.deliver([]byte("ls\r"))
	if got := string(p.typeahead); got != "ls\r" {
		t.Errorf("keys kept for the target = %q, want only %q typed after the wait", got, "ls\r")
	}
	select {
	case <-p.interrupt:
		t.Fatal("the wait was stopped without a Ctrl-C")
	default:
	}

	p = newStdinPump(&sessionChannel{})
	p.deliver([]byte("ls\r\x03"))
	p.setWaiting(true)
	select {
	case <-p.interrupt:
	default:
		t.Error("a Ctrl-C typed just before the wait began did not stop it")
	}
	p.deliver([]byte{keyInterrupt}) // a second Ctrl-C must not close the channel twice
}

// TestStdinPromptDropsEarlierKeys covers a Ctrl-C typed before a prompt
// appeared: it cancels the prompt, so no request opens, and it is not
// left among the kept keys to stop a later wait.
func TestStdinPromptDropsEarlierKeys(t *testing.T) {
	p := newStdinPump(&sessionChannel{})
	p.deliver([]byte("\x03"))
	if _, err := p.prompt(context.Background(), "Reason: "); err != errPromptAborted {
		t.Errorf("prompt after a kept Ctrl-C returned %v, want %v", err, errPromptAborted)
	}
	if len(p.typeahead) != 0 {
		t.Errorf("keys kept after the prompt = %q, want none", p.typeahead)
	}
	p.setWaiting(true)
	select {
	case <-p.interrupt:
		t.Error("the Ctrl-C typed before the prompt also stopped the wait after it")
	default:
	}
}

// TestHoldDropsKeysOnEveryChannel covers a connection with more than one
// session channel, as under OpenSSH's ControlMaster. Keys typed while a
// hold waits are dropped on channels opened before the hold and during
// it. Keys typed after it are kept for the target.
func TestHoldDropsKeysOnEveryChannel(t *testing.T) {
	c := &conn{sessions: map[*sessionChannel]struct{}{}}
	newChannel := func() *sessionChannel {
		s := &sessionChannel{c: c}
		s.stdin = newStdinPump(s)
		if !c.addSession(s) {
			t.Fatal("addSession rejected the channel")
		}
		return s
	}
	before := newChannel()
	before.stdin.deliver([]byte("typed before the hold\r"))
	c.setHolding(true)
	during := newChannel()
	before.stdin.deliver([]byte("rm -rf build\r"))
	during.stdin.deliver([]byte("rm -rf dist\r"))
	c.setHolding(false)
	before.stdin.deliver([]byte("ls\r"))
	during.stdin.deliver([]byte("pwd\r"))

	if got := string(before.stdin.typeahead); got != "ls\r" {
		t.Errorf("keys kept on the channel opened before the hold = %q, want %q", got, "ls\r")
	}
	if got := string(during.stdin.typeahead); got != "pwd\r" {
		t.Errorf("keys kept on the channel opened during the hold = %q, want %q", got, "pwd\r")
	}
}

func TestIsTransfer(t *testing.T) {
	tests := []struct {
		kind, command string
		want          bool
	}{
		{"subsystem", "sftp", true},
		{"subsystem", "netconf", false},
		{"exec", "scp -t .", true},
		{"exec", "scp -v -d -f -- /etc/hosts", true},
		{"exec", "/usr/bin/scp -pt dir", true},
		{"exec", "rsync --server -logDtpre.iLsfxCIvu . dir/", true},
		{"exec", "git-upload-pack '/srv/repo.git'", true},
		{"exec", "scp -t x; cat /etc/shadow", false},
		{"exec", "rsync --server . $(whoami)", false},
		{"exec", "rsync --version", false},
		{"exec", "scp a b", false},
		{"exec", "cat big.bin", false},
		{"shell", "", false},
	}
	for _, tt := range tests {
		if got := isTransfer(tt.kind, tt.command); got != tt.want {
			t.Errorf("isTransfer(%q, %q) = %v, want %v", tt.kind, tt.command, got, tt.want)
		}
	}
}

func TestRequestDetails(t *testing.T) {
	var d requestDetails
	for name, value := range map[string]string{
		envReason: "  disk full  ", envTicket: "INC-1", envTrigger: "incident",
		envDuration: "1h30m", envContract: "ops", envBreakGlass: "yes",
	} {
		if !d.set(name, value) {
			t.Errorf("set(%s) = false, want true", name)
		}
	}
	if d.reason != "disk full" || d.ticket != "INC-1" || d.trigger != "incident" || d.contract != "ops" ||
		d.duration != 90*time.Minute || !d.breakGlass || len(d.invalid) != 0 {
		t.Errorf("details = %+v", d)
	}
	if d.set("JITGATE_OTHER", "x") {
		t.Error("an unknown JITGATE_ variable was taken")
	}
	d.set(envDuration, "soon")
	d.set(envBreakGlass, "maybe")
	if len(d.invalid) != 2 {
		t.Errorf("invalid = %q, want two messages", d.invalid)
	}
}

func TestSourceLimiter(t *testing.T) {
	l := newSourceLimiter(2)
	a := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1000}
	a2 := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2000}
	b := &net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 1000}
	if !l.acquire(a) || !l.acquire(a2) {
		t.Fatal("the first two connections from one address were rejected")
	}
	if l.acquire(a) {
		t.Error("a third connection from one address was allowed")
	}
	if !l.acquire(b) {
		t.Error("another address was rejected")
	}
	l.release(a)
	if !l.acquire(a) {
		t.Error("a slot was not freed by release")
	}
}

func TestHostKeysGeneratedOnceAndReloaded(t *testing.T) {
	dir := t.TempDir()
	first, err := loadHostKeys("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 {
		t.Fatalf("generated %d host keys, want ed25519, ECDSA and RSA", len(first))
	}
	info, err := os.Stat(filepath.Join(dir, hostKeyEd25519File))
	if err != nil || info.Mode().Perm() != hostKeyFileMode {
		t.Fatalf("host key file: %v, mode %v; want mode %v", err, info.Mode().Perm(), os.FileMode(hostKeyFileMode))
	}

	again, err := loadHostKeys(filepath.Join(dir, hostKeyEd25519File), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if ssh.FingerprintSHA256(first[i].PublicKey()) != ssh.FingerprintSHA256(again[i].PublicKey()) {
			t.Errorf("host key %d changed on reload", i)
		}
	}

	if _, err := loadHostKeys("", ""); err == nil {
		t.Error("no key file and no state folder gave no error")
	}
	bad := filepath.Join(dir, "bad_key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadHostKeys(bad, ""); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("a broken key file gave %v, want an error naming it", err)
	}
}

func TestClientCloseWaitAddsRoundTrips(t *testing.T) {
	front, _ := testenv.TCPPair(t)
	pipe, other := net.Pipe()
	defer pipe.Close()
	defer other.Close()
	const wait = 20 * time.Millisecond
	tests := []struct {
		name     string
		nc       net.Conn
		grace    time.Duration
		min, max time.Duration
	}{
		// Loopback's round trips are short, but they count.
		{"tcp", front, 2 * time.Second, wait + time.Nanosecond, wait + 100*time.Millisecond},
		{"no socket", pipe, 2 * time.Second, wait, wait},
		{"capped by the grace", front, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{srv: &Server{opts: Options{CloseWait: wait, CloseGrace: tt.grace}}, nc: tt.nc}
			if got := c.clientCloseWait(); got < tt.min || got > tt.max {
				t.Errorf("clientCloseWait() = %v, want %v to %v", got, tt.min, tt.max)
			}
		})
	}
}
