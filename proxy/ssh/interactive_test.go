package sshproxy

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/store"
)

// holdOnTerminal matches the hold line as a terminal shows it.
var holdOnTerminal = regexp.MustCompile(`jitgate: access request (\d+) for login \S+ on web-1 is waiting for approval\r\n`)

// waitRequestOnTerminal waits for the hold line and returns the request id
// and the offset past it.
func waitRequestOnTerminal(t *testing.T, term *terminal, from int) (int64, int) {
	t.Helper()
	end := term.waitFor("is waiting for approval\r\n", from, 20*time.Second)
	m := holdOnTerminal.FindStringSubmatch(term.output()[from:end])
	if m == nil {
		t.Fatalf("no request id in %q", term.output()[from:end])
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id, end
}

// waitSessionEnd waits until the store records session id as closed, and
// returns it. It wakes on store changes instead of polling.
func (e *env) waitSessionEnd(id int64) *store.Session {
	e.t.Helper()
	changes, cancel := e.store.Changes()
	defer cancel()
	deadline := time.After(20 * time.Second)
	for {
		s, err := e.store.Session(context.Background(), id)
		if err == nil && s.State == store.SessionClosed {
			return s
		}
		select {
		case <-changes:
		case <-deadline:
			e.t.Fatalf("session %d not closed within 20s: %+v, %v", id, s, err)
		}
	}
}

// replayOutput returns the recording's header and the output events
// joined, which is what a player draws.
func replayOutput(t *testing.T, path string) (*recordings.CastHeader, []recordings.Event, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	header, events, err := recordings.Parse(f)
	if err != nil {
		t.Fatalf("recording %s is not valid asciicast v2: %v", path, err)
	}
	var out strings.Builder
	for _, ev := range events {
		if ev.Code == recordings.CodeOutput {
			out.WriteString(ev.Data)
		}
	}
	return header, events, out.String()
}

func TestInteractiveSessionEndsWithWindow(t *testing.T) {
	e := newEnv(t, envOptions{window: "20m"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	term := startTerminal(t, e.sshCommand(ctx, e.user(), "127.0.0.1"), 100, 30)
	at := term.waitFor("Reason for access (shown to approvers; Enter to skip): ", 0, 20*time.Second)
	term.send("rotate logs\r")
	id, at := waitRequestOnTerminal(t, term, at)
	at = term.waitFor("press Ctrl-C to stop waiting\r\n", at, 5*time.Second)

	grant := e.approve(id)
	at = term.waitFor("jitgate: access request "+strconv.FormatInt(id, 10)+" approved by bob; grant "+strconv.FormatInt(grant.ID, 10), at, 10*time.Second)
	at = term.waitFor("$ ", at, 20*time.Second) // see waitPrompt
	term.send("echo hello-$((6*7))\r")
	at = term.waitFor("hello-42", at, 10*time.Second)
	term.resize(120, 40)
	at = term.retypeUntil("stty size\r", "40 120", at)
	// The warnings below go to stderr. Wait for the shell's prompt first,
	// because ssh writes stdout and stderr from separate buffers, so a
	// warning sent while the prompt is on its way can reach the terminal
	// before it, the other way round from the recording.
	at = term.waitFor("$ ", at, 10*time.Second)

	req, err := e.store.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.Reason != "rotate logs" {
		t.Errorf("request reason = %q, want the typed %q", req.Reason, "rotate logs")
	}

	grantID := strconv.FormatInt(grant.ID, 10)
	e.fake.Advance(grant.End.Sub(e.fake.Now()) - 5*time.Minute + time.Second)
	at = term.waitFor("jitgate: grant "+grantID+" ends in 5m0s", at, 10*time.Second)
	e.fake.Advance(4 * time.Minute)
	at = term.waitFor("jitgate: grant "+grantID+" ends in 1m0s", at, 10*time.Second)
	e.fake.Advance(time.Minute)
	term.waitFor("jitgate: grant "+grantID+" ended at ", at, 10*time.Second)
	if code := term.wait(10 * time.Second); code != 255 {
		t.Errorf("ssh exit code = %d, want 255: the window end closes the session without an exit status", code)
	}

	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: grant.ID})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions of grant %d = %v, %v; want one", grant.ID, sessions, err)
	}
	s := e.waitSessionEnd(sessions[0].ID)
	if s.EndReason != "window-end" {
		t.Errorf("session end reason = %q, want window-end", s.EndReason)
	}
	header, events, replayed := replayOutput(t, s.Recording)
	if header.Width != 100 || header.Height != 30 {
		t.Errorf("recording header size = %dx%d, want the pty-req size 100x30", header.Width, header.Height)
	}
	if !hasEvent(events, recordings.CodeResize, "120x40") {
		t.Errorf("recording has no resize event 120x40: %v", events)
	}
	if replayed != term.output() {
		t.Errorf("the recording's output does not replay to what the terminal showed\nrecording: %q\nterminal:  %q", replayed, term.output())
	}
}

func hasEvent(events []recordings.Event, code, data string) bool {
	for _, ev := range events {
		if ev.Code == code && ev.Data == data {
			return true
		}
	}
	return false
}
