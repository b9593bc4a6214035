package sshproxy

import (
	"bytes"
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/store"
)

// termEnv makes ssh send a known TERM in its pty-req.
func termEnv(cmdEnv []string) []string {
	return append(slices.DeleteFunc(slices.Clone(cmdEnv), func(v string) bool { return strings.HasPrefix(v, "TERM=") }), "TERM=xterm-256color")
}

// runOnTerminal runs ssh with args on a cols x rows terminal to the end
// and returns what the terminal showed.
func runOnTerminal(t *testing.T, e *env, direct bool, cols, rows uint16, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := e.sshCommand(ctx, e.user(), args...)
	if direct {
		cmd = e.directCommand(ctx, args...)
	}
	cmd.Env = termEnv(os.Environ())
	term := startTerminal(t, cmd, cols, rows)
	if code := term.wait(20 * time.Second); code != 0 {
		t.Fatalf("ssh %q exited %d; the terminal showed:\n%q", args, code, term.output())
	}
	return term.output()
}

func TestPtyRequestMatchesDirect(t *testing.T) {
	e := newEnv(t, envOptions{directKey: true})
	e.grant()

	got := runOnTerminal(t, e, false, 132, 43, "-t", testHost, "stty size; tput cols; echo $TERM")
	if want := "43 132\r\n132\r\nxterm-256color\r\n"; got != want {
		t.Errorf("size and TERM through jitgate = %q, want %q", got, want)
	}

	// stty -a lists every terminal mode the pty-req carried.
	proxied := runOnTerminal(t, e, false, 132, 43, "-t", testHost, "stty -a")
	direct := runOnTerminal(t, e, true, 132, 43, "-t", testHost, "stty -a")
	if proxied != direct {
		t.Errorf("stty -a through jitgate differs from direct:\njitgate: %q\ndirect:  %q", proxied, direct)
	}
}

func TestWindowChangesReachTargetAndRecording(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.sshCommand(ctx, e.user(), testHost)
	cmd.Env = termEnv(os.Environ())
	term := startTerminal(t, cmd, 80, 24)

	prompt := waitPrompt(term)
	term.send("stty size\r")
	at := term.waitFor("24 80", prompt, 20*time.Second)
	for _, size := range []struct {
		cols, rows uint16
		want       string
	}{{100, 30, "30 100"}, {200, 60, "60 200"}, {60, 20, "20 60"}} {
		term.resize(size.cols, size.rows)
		at = term.retypeUntil("stty size\r", size.want, at)
	}
	term.send("exit\r")
	if code := term.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code = %d, want 0", code)
	}

	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions = %v, %v; want one", sessions, err)
	}
	s := e.waitSessionEnd(sessions[0].ID)
	header, events, _ := replayOutput(t, s.Recording)
	if header.Width != 80 || header.Height != 24 || header.Env == nil || header.Env.Term != "xterm-256color" {
		t.Errorf("recording header = %dx%d, env %+v; want 80x24 and TERM xterm-256color", header.Width, header.Height, header.Env)
	}
	var resizes []string
	for _, ev := range events {
		if ev.Code == recordings.CodeResize {
			resizes = append(resizes, ev.Data)
		}
	}
	if want := []string{"100x30", "200x60", "60x20"}; !slices.Equal(resizes, want) {
		t.Errorf("recorded resizes = %q, want %q", resizes, want)
	}
}

func TestRecordingsReplayWithoutResizeOrPty(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	runOnTerminal(t, e, false, 90, 30, "-tt", testHost, "seq 1 3")
	if _, _, code := runSSH(t, e.sshCommand(ctx, e.user(), testHost, "seq 1 5"), nil); code != 0 {
		t.Fatalf("seq without a pty exited %d", code)
	}

	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions = %v, %v; want two", sessions, err)
	}
	slices.SortFunc(sessions, func(a, b *store.Session) int { return int(a.ID - b.ID) })
	wants := []struct {
		cols, rows int
		pty        bool
		output     string
	}{{90, 30, true, "1\r\n2\r\n3\r\n"}, {80, 24, false, "1\n2\n3\n4\n5\n"}}
	for i, want := range wants {
		s := e.waitSessionEnd(sessions[i].ID)
		header, _, output := replayOutput(t, s.Recording)
		if header.Width != want.cols || header.Height != want.rows || header.JITGate.PTY != want.pty {
			t.Errorf("session %d: header %dx%d pty %v, want %dx%d pty %v", i, header.Width, header.Height, header.JITGate.PTY, want.cols, want.rows, want.pty)
		}
		if output != want.output {
			t.Errorf("session %d: recorded output %q, want %q", i, output, want.output)
		}
		f, err := os.Open(s.Recording)
		if err != nil {
			t.Fatal(err)
		}
		var replayed bytes.Buffer
		err = recordings.Replay(f, &replayed, recordings.ReplayOptions{Speed: math.Inf(1)})
		f.Close()
		if err != nil || replayed.String() != want.output {
			t.Errorf("session %d: replay = %q, %v; want %q", i, replayed.String(), err, want.output)
		}
	}
}
