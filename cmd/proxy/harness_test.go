package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/server/servertest"
)

// binary is the jitgate binary that TestMain builds once for every test.
var binary string

// commandTimeout bounds every CLI run and the server's start.
const commandTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jitgate-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating a folder for the binary:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "jitgate")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jitgate:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one CLI run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// cliEnv returns the process environment without JITGATE_ variables, plus
// the server URL and the person's token when given.
func cliEnv(serverURL, person string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JITGATE_") {
			env = append(env, kv)
		}
	}
	if serverURL != "" {
		env = append(env, "JITGATE_SERVER="+serverURL)
	}
	if person != "" {
		env = append(env, "JITGATE_TOKEN="+servertest.Token(person))
	}
	return env
}

// jitgate runs the binary as person against serverURL with stdin.
func jitgate(t *testing.T, serverURL, person, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cliEnv(serverURL, person)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running jitgate %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ jitgate %s  (as %s, exit %d)\n%s%s", strings.Join(args, " "), orDash(person), res.code, res.stdout, res.stderr)
	return res
}

// serverProc is `jitgate serve` running as a child process.
type serverProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	logs   *os.File
	exited chan error
}

// startServer runs `jitgate serve --config configPath` on a free loopback
// port and returns once the server reports its address and /readyz
// returns 200.
func startServer(t *testing.T, configPath string) *serverProc {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", configPath, "--listen", "127.0.0.1:0")
	cmd.Env = cliEnv("", "")
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting jitgate serve: %v", err)
	}
	p := &serverProc{t: t, cmd: cmd, logs: logs, exited: make(chan error, 1)}
	t.Cleanup(p.cleanup)

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "jitgate: API on "); ok {
				addr <- u
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case p.url = <-addr:
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("jitgate serve exited before serving (%v); its log:\n%s", err, p.log())
	case <-time.After(commandTimeout):
		t.Fatalf("jitgate serve did not report its address within %s; its log:\n%s", commandTimeout, p.log())
	}
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200", resp.StatusCode)
	}
	return p
}

func (p *serverProc) log() string {
	data, _ := os.ReadFile(p.logs.Name())
	return string(data)
}

// kill ends the server with SIGKILL, as a crash would.
func (p *serverProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatalf("killing jitgate serve (pid %d): %v", p.cmd.Process.Pid, err)
	}
	err := <-p.exited
	p.exited <- err
}

// stop ends the server with SIGTERM and requires a clean exit.
func (p *serverProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("signalling jitgate serve (pid %d): %v", p.cmd.Process.Pid, err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			p.t.Errorf("jitgate serve exited with %v after SIGTERM; its log:\n%s", err, p.log())
		}
	case <-time.After(commandTimeout):
		p.t.Fatalf("jitgate serve still runs %s after SIGTERM", commandTimeout)
	}
}

// cleanup kills the server if a test left it running, and keeps its log
// in the test output when the test failed.
func (p *serverProc) cleanup() {
	select {
	case err := <-p.exited:
		p.exited <- err
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if p.t.Failed() {
		p.t.Logf("jitgate serve log:\n%s", p.log())
	}
	p.logs.Close()
}

// lineReader collects the lines a running command prints, with the time
// each arrived.
type lineReader struct {
	mu    sync.Mutex
	lines []timedLine
	more  chan struct{} // closed and replaced on each new line
}

type timedLine struct {
	text string
	at   time.Time
}

func readLines(r io.Reader) *lineReader {
	lr := &lineReader{more: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.mu.Lock()
			lr.lines = append(lr.lines, timedLine{text: sc.Text(), at: time.Now()})
			close(lr.more)
			lr.more = make(chan struct{})
			lr.mu.Unlock()
		}
	}()
	return lr
}

// line returns line i, waiting up to commandTimeout for it.
func (lr *lineReader) line(t *testing.T, i int) timedLine {
	t.Helper()
	deadline := time.After(commandTimeout)
	for {
		lr.mu.Lock()
		if len(lr.lines) > i {
			l := lr.lines[i]
			lr.mu.Unlock()
			return l
		}
		more := lr.more
		lr.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no output line %d within %s", i+1, commandTimeout)
		}
	}
}
