package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the jitgate binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jitgate-demo-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "jitgate")
	build := exec.Command("go", "build", "-o", binary, "github.com/jitgate/jitgate/cmd/proxy")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jitgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demoRun is `jitgate demo` running as a child process.
type demoRun struct {
	cmd    *exec.Cmd
	dir    string
	env    map[string]string
	stdout *bytes.Buffer
	exited chan error
}

// startDemo runs `jitgate demo ARGS` and waits until it has written
// demo.env. The demo folder comes from the "Files:" line of its output.
func startDemo(t *testing.T, args ...string) *demoRun {
	t.Helper()
	requireTools(t, "psql")
	cmd := exec.Command(binary, append([]string{"demo"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoRun{cmd: cmd, stdout: &bytes.Buffer{}, exited: make(chan error, 1)}
	files := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			d.stdout.WriteString(line + "\n")
			if dir, ok := strings.CutPrefix(line, "Files: "); ok {
				files <- strings.Fields(dir)[0]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { d.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-d.exited:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
			}
		}
	})
	select {
	case d.dir = <-files:
	case err := <-d.exited:
		t.Fatalf("jitgate demo exited before it was ready: %v\n%s", err, stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("jitgate demo did not print its folder within 90s\n%s", stderr.String())
	}
	d.env = readEnv(t, filepath.Join(d.dir, "demo.env"))
	return d
}

var envLine = regexp.MustCompile(`^export ([A-Z_]+)='(.*)'$`)

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading demo.env: %v", err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if m := envLine.FindStringSubmatch(line); m != nil {
			env[m[1]] = strings.ReplaceAll(m[2], `'\''`, "'")
		}
	}
	for _, key := range []string{"JITGATE_SERVER", "ALICE_TOKEN", "BOB_TOKEN", "PGHOST", "PGPORT", "PGDATABASE", "DIRECT_DATABASE_URL"} {
		if env[key] == "" {
			t.Errorf("demo.env lacks %s", key)
		}
	}
	return env
}

// stop sends SIGINT and waits for the demo to exit.
func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-d.exited:
		if err != nil {
			t.Errorf("jitgate demo exited with %v after SIGINT", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("jitgate demo still running 60s after SIGINT")
	}
}

// jitgate runs a client command as person.
func (d *demoRun) jitgate(t *testing.T, token string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "JITGATE_SERVER="+d.env["JITGATE_SERVER"], "JITGATE_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jitgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// psql starts psql as alice through the front door with sql and returns
// its combined output once it exits.
func (d *demoRun) psql(sql string) <-chan string {
	out := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn := fmt.Sprintf("host=%s port=%s user=alice dbname=%s sslmode=require", d.env["PGHOST"], d.env["PGPORT"], d.env["PGDATABASE"])
		cmd := exec.CommandContext(ctx, "psql", conn, "-X", "-A", "-t", "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+d.env["ALICE_TOKEN"], "PGCONNECT_TIMEOUT=10")
		b, _ := cmd.CombinedOutput()
		out <- string(b)
	}()
	return out
}

var pendingID = regexp.MustCompile(`(?m)^(\d+)\s+pending\s+alice`)

// approveNext waits for alice's pending request and approves it as bob.
func (d *demoRun) approveNext(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := pendingID.FindStringSubmatch(d.jitgate(t, d.env["BOB_TOKEN"], "requests", "--state", "pending")); m != nil {
			d.jitgate(t, d.env["BOB_TOKEN"], "approve", m[1], "--comment", "demo test")
			return m[1]
		}
		time.Sleep(200 * time.Millisecond) // the request appears when psql or ssh connects
	}
	t.Fatal("no pending request from alice within 30s")
	return ""
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("JITGATE_REQUIRE_TARGETS") != "" {
				t.Fatalf("%s is not installed", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// processesUsing returns the command lines of processes that mention dir.
func processesUsing(dir string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		line := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(line, dir) {
			found = append(found, e.Name()+": "+line)
		}
	}
	return found
}

func TestDemoPostgresWalkthrough(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, "--dir", dir, "--max-window", "20s", "--no-ssh")

	rows := d.psql("select count(*) from orders")
	d.approveNext(t)
	select {
	case out := <-rows:
		if !strings.Contains(out, "\n6\n") && !strings.HasSuffix(strings.TrimSpace(out), "6") {
			t.Fatalf("psql output = %q, want the 6 sample orders", out)
		}
		if !strings.Contains(out, "waiting for approval") {
			t.Errorf("psql output lacks the hold notice: %q", out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("psql did not return within 60s of the approval")
	}

	// The grant from the first connection is still active: a long query is
	// cut at the 20s window end.
	started := time.Now()
	out := <-d.psql("select pg_sleep(90)")
	if !strings.Contains(out, "ended at") || !strings.Contains(out, "session is closed") {
		t.Errorf("psql output at the window end = %q, want the grant-ended message", out)
	}
	if took := time.Since(started); took > 40*time.Second {
		t.Errorf("the session was cut %s after it started, want within the 20s window", took)
	}

	d.stop(t)
	if left := processesUsing(dir); len(left) > 0 {
		t.Errorf("processes left after SIGINT:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.env")); err != nil {
		t.Errorf("--dir folder was not kept: %v", err)
	}
}

func TestDemoSSHWalkthrough(t *testing.T) {
	requireTools(t, "ssh")
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		requireTools(t, "sshd")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, "--dir", dir, "--max-window", "20s")
	if d.env["SSH_USER"] == "" {
		t.Fatal("demo.env has no SSH_USER although sshd is installed")
	}
	ssh := func(command string) <-chan string {
		out := make(chan string, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ssh", "-i", d.env["ALICE_SSH_KEY"], "-p", d.env["SSH_PORT"],
				"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
				"-o", "LogLevel=ERROR", d.env["SSH_USER"]+"@"+d.env["SSH_HOST"], command)
			b, _ := cmd.CombinedOutput()
			out <- string(b)
		}()
		return out
	}
	first := ssh("id -un; echo demo-ok")
	d.approveNext(t)
	select {
	case out := <-first:
		login := strings.SplitN(d.env["SSH_USER"], "@", 2)[0]
		if !strings.Contains(out, login+"\ndemo-ok") {
			t.Fatalf("ssh output = %q, want %s and demo-ok", out, login)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("ssh did not return within 60s of the approval")
	}
	out := <-ssh("sleep 90; echo not-cut")
	if strings.Contains(out, "not-cut") || !strings.Contains(out, "ended") {
		t.Errorf("ssh output at the window end = %q, want the grant-ended message", out)
	}
	d.stop(t)
	if left := processesUsing(dir); len(left) > 0 {
		t.Errorf("processes left after SIGINT:\n%s", strings.Join(left, "\n"))
	}
}

func TestDemoRemovesTempFolder(t *testing.T) {
	d := startDemo(t, "--no-ssh")
	if !strings.HasPrefix(filepath.Base(d.dir), "jitgate-demo-") {
		t.Fatalf("demo folder %s is not a temporary one", d.dir)
	}
	d.stop(t)
	if _, err := os.Stat(d.dir); !os.IsNotExist(err) {
		t.Errorf("temporary folder %s still exists after SIGINT (stat: %v)", d.dir, err)
	}
	if left := processesUsing(d.dir); len(left) > 0 {
		t.Errorf("processes left after SIGINT:\n%s", strings.Join(left, "\n"))
	}
}
