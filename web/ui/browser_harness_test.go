package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeouts of the browser tests. Each bounds one wait, so a hung step
// fails with its own message instead of the package timeout.
const (
	serverStartTimeout = 30 * time.Second
	stepTimeout        = 15 * time.Second
	cliTimeout         = 60 * time.Second
)

// chromiumPath returns Debian's chromium, or skips the test when it is
// missing, unless JITGATE_REQUIRE_TARGETS is set (as in CI), which makes a
// missing browser a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("JITGATE_REQUIRE_TARGETS") != "" {
		t.Fatal("chromium is not installed and JITGATE_REQUIRE_TARGETS is set; install it with apt-get install chromium")
	}
	t.Skip("chromium is not installed; apt-get install chromium runs the browser tests")
	return ""
}

// newBrowserTab starts headless Chromium with a fresh profile and returns
// the context of its first tab. The browser stops at the end of the test.
// The flags turn off every connection Chromium makes by itself (updates,
// sync, field trials), so the browser talks only to the test servers on
// loopback.
func newBrowserTab(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // the tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// The first Run starts the browser. It must not carry a timeout, which
	// would stop the whole browser when it ran out.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	watchConsole(t, tab)
	return tab
}

// watchConsole fails the test at its end if the page logged a JavaScript
// error, threw an exception, or broke the Content-Security-Policy. HTTP
// errors (source "network") are left to the test, because some tests
// expect a 403.
func watchConsole(t *testing.T, tab context.Context) {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(tab, func(ev any) {
		var problem string
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
				problem = fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			problem = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				problem += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				problem = fmt.Sprintf("console.%s called", ev.Type)
			}
		}
		if problem != "" {
			mu.Lock()
			problems = append(problems, problem)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listening to the browser console: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enabling the browser log: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	})
}

// step runs browser actions with stepTimeout.
func step(t *testing.T, tab context.Context, description string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", description, err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, tab context.Context, expression string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}

// pageText returns the visible text of the element sel.
func pageText(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading the text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// signInBrowser signs person in through the sign-in form, starting from
// the requests page, which redirects there and back.
func signInBrowser(t *testing.T, tab context.Context, baseURL, person string) {
	t.Helper()
	step(t, tab, "signing in as "+person,
		chromedp.Navigate(baseURL+"/requests"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), person),
		chromedp.SendKeys(chromedp.ID("password"), password(person)),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("signed-in-as")),
	)
}

// serverProc is `jitgate serve` running as a child process on loopback.
type serverProc struct {
	url    string
	cmd    *exec.Cmd
	exited chan error
}

// startServer runs `jitgate serve` with the test config on a free
// loopback port and returns once it reports its address and /readyz
// returns 200. The server gets SIGINT at the end of the test.
func startServer(t *testing.T) *serverProc {
	t.Helper()
	dir := t.TempDir()
	config := writeConfig(t, dir, "127.0.0.1:8080")
	logs, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(jitgateBinary(t), "serve", "--config", config, "--listen", "127.0.0.1:0")
	cmd.Env = cliEnv("", "")
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting jitgate serve: %v", err)
	}
	p := &serverProc{cmd: cmd, exited: make(chan error, 1)}
	t.Cleanup(func() {
		p.stop(t)
		logs.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("jitgate serve log:\n%s", b)
		}
	})

	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "jitgate: API on "); ok {
				addr <- u
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case p.url = <-addr:
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("jitgate serve exited before serving: %v", err)
	case <-time.After(serverStartTimeout):
		t.Fatalf("jitgate serve did not report its address within %s", serverStartTimeout)
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

// stop sends SIGINT to the server it started and waits for it, killing
// it after serverStartTimeout.
func (p *serverProc) stop(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stopping jitgate serve (pid %d): %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(serverStartTimeout):
		t.Errorf("jitgate serve (pid %d) did not stop within %s after SIGINT; killing it", p.cmd.Process.Pid, serverStartTimeout)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// apiGet calls the JSON API as person and decodes the response into out.
func (p *serverProc) apiGet(t *testing.T, person, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.url+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token(person))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1%s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1%s = %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("decoding GET /api/v1%s: %v", path, err)
	}
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
		env = append(env, "JITGATE_TOKEN="+token(person))
	}
	return env
}

// cliRun is one `jitgate` client command running in the background.
type cliRun struct {
	args           []string
	stdout, stderr bytes.Buffer
	done           chan error
	cmd            *exec.Cmd
}

// startCLI runs the jitgate binary as person against serverURL. It is
// killed at the end of the test if still running.
func startCLI(t *testing.T, serverURL, person string, args ...string) *cliRun {
	t.Helper()
	c := &cliRun{args: args, done: make(chan error, 1)}
	c.cmd = exec.Command(jitgateBinary(t), args...)
	c.cmd.Env = cliEnv(serverURL, person)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting jitgate %s: %v", strings.Join(args, " "), err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// wait returns the exit code once the command ends, within cliTimeout.
func (c *cliRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		t.Logf("$ jitgate %s\n%s%s", strings.Join(c.args, " "), c.stdout.String(), c.stderr.String())
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("jitgate %s: %v", strings.Join(c.args, " "), err)
		}
		return 0
	case <-time.After(cliTimeout):
		t.Fatalf("jitgate %s did not finish within %s", strings.Join(c.args, " "), cliTimeout)
		return -1
	}
}

// runCLI runs a jitgate client command to its end.
func runCLI(t *testing.T, serverURL, person string, args ...string) (stdout string, code int) {
	t.Helper()
	c := startCLI(t, serverURL, person, args...)
	code = c.wait(t)
	return c.stdout.String(), code
}

// requestView is the part of the API's request view that the tests read.
type requestView struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Decisions []struct {
		Approver string `json:"approver"`
		Verdict  string `json:"verdict"`
		Comment  string `json:"comment"`
	} `json:"decisions"`
}

func (p *serverProc) request(t *testing.T, id int64) requestView {
	t.Helper()
	var v requestView
	p.apiGet(t, bob, fmt.Sprintf("/requests/%d", id), &v)
	return v
}
