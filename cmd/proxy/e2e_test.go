package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

const (
	alice = servertest.Alice
	bob   = servertest.Bob
	carol = servertest.Carol
)

// decisionLatencyLimit is the loose bound on how soon `request --wait`
// prints the outcome after `approve` returns. The server wakes the long
// poll within milliseconds; the bound leaves room for a loaded machine.
const decisionLatencyLimit = time.Second

// startWaiter runs `jitgate request ... --wait` as person in the
// background and returns its output lines and exit channel.
func startWaiter(t *testing.T, serverURL, person string, args ...string) (*lineReader, <-chan int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, append([]string{"request"}, args...)...)
	cmd.Env = cliEnv(serverURL, person)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting jitgate request: %v", err)
	}
	lines := readLines(stdout)
	exited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			code = -1
		}
		exited <- code
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("request --wait stderr:\n%s", stderr.String())
		}
	})
	return lines, exited
}

func exitCodeOf(t *testing.T, exited <-chan int) int {
	t.Helper()
	select {
	case code := <-exited:
		return code
	case <-time.After(commandTimeout):
		t.Fatalf("jitgate request --wait still runs after %s", commandTimeout)
		return -1
	}
}

var pendingLine = regexp.MustCompile(`^request (\d+) is pending approval under contract (\S+): (\S+)$`)

func TestRequestApproveRevokeThroughCLI(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, servertest.WriteConfig(t, dir, servertest.Options{}))

	lines, exited := startWaiter(t, srv.url, alice, "web-1", "--login", "deploy", "--reason", "deploy hotfix", "--wait")
	first := lines.line(t, 0).text
	m := pendingLine.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line = %q, want %q", first, pendingLine)
	}
	id, contract, link := m[1], m[2], m[3]
	if contract != servertest.Ops || !strings.HasSuffix(link, "/requests/"+id) {
		t.Errorf("pending line names contract %q and link %q, want %s and .../requests/%s", contract, link, servertest.Ops, id)
	}

	approveStarted := time.Now()
	approve := jitgate(t, srv.url, bob, "", "approve", id, "--comment", "go ahead")
	approvedAt := time.Now()
	if approve.code != 0 || !strings.HasPrefix(approve.stdout, "request "+id+" approved: grant ") {
		t.Fatalf("approve = exit %d, stdout %q; want exit 0 and the grant", approve.code, approve.stdout)
	}
	outcome := lines.line(t, 1)
	latency := outcome.at.Sub(approvedAt)
	t.Logf("request --wait printed the outcome %s after approve started, %s after it returned (negative: before)",
		outcome.at.Sub(approveStarted), latency)
	if latency > decisionLatencyLimit {
		t.Errorf("request --wait printed the outcome %s after approve returned, want under %s", latency, decisionLatencyLimit)
	}
	wantOutcome := regexp.MustCompile(`^request ` + id + ` approved: grant (\d+) for deploy on web-1 until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	gm := wantOutcome.FindStringSubmatch(outcome.text)
	if gm == nil {
		t.Fatalf("outcome = %q, want %q", outcome.text, wantOutcome)
	}
	grantID := gm[1]
	if code := exitCodeOf(t, exited); code != 0 {
		t.Errorf("request --wait exit status = %d after approval, want 0", code)
	}

	grants := listGrants(t, srv.url, alice)
	if len(grants) != 1 || grants[0].State != "active" || grants[0].Principal != "deploy" {
		t.Fatalf("grants = %+v, want one active grant for deploy", grants)
	}

	revoke := jitgate(t, srv.url, bob, "", "revoke", grantID, "--reason", "done")
	if revoke.code != 0 || revoke.stdout != "grant "+grantID+" revoked\n" {
		t.Errorf("revoke = exit %d, stdout %q; want exit 0 and %q", revoke.code, revoke.stdout, "grant "+grantID+" revoked")
	}
	grants = listGrants(t, srv.url, alice)
	if len(grants) != 1 || grants[0].State != "revoked" || grants[0].Closer != bob {
		t.Errorf("grants after revoke = %+v, want the grant revoked by bob", grants)
	}

	table := jitgate(t, srv.url, bob, "", "grants")
	assertAligned(t, table.stdout, "STATE", "revoked")
}

func TestRequestWaitPrintsDenial(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	lines, exited := startWaiter(t, srv.url, alice, "orders", "--role", "readonly", "--wait")
	m := pendingLine.FindStringSubmatch(lines.line(t, 0).text)
	if m == nil {
		t.Fatalf("first line = %q, want the pending request", lines.line(t, 0).text)
	}

	deny := jitgate(t, srv.url, bob, "", "deny", m[1], "--comment", "not during the freeze")
	if deny.code != 0 {
		t.Fatalf("deny exit status = %d", deny.code)
	}
	if got, want := lines.line(t, 1).text, "request "+m[1]+" denied by bob: not during the freeze"; got != want {
		t.Errorf("outcome = %q, want %q", got, want)
	}
	if code := exitCodeOf(t, exited); code != 1 {
		t.Errorf("request --wait exit status = %d after a denial, want 1", code)
	}
}

func TestCLIErrorsFromServer(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	created := jitgate(t, srv.url, alice, "", "request", "web-1", "--login", "deploy", "-o", "json")
	var r web.RequestView
	if err := json.Unmarshal([]byte(created.stdout), &r); err != nil {
		t.Fatalf("request -o json = %q: %v", created.stdout, err)
	}
	id := jsonID(r.ID)

	tests := []struct {
		name   string
		person string
		args   []string
		code   int
		stderr string
	}{
		{"non-approver approves", carol, []string{"approve", id}, 1, "jitgate: carol is not an approver"},
		{"requester approves", alice, []string{"approve", id}, 1, "jitgate: alice cannot approve or deny their own request"},
		{"unknown request", bob, []string{"approve", "999"}, 1, "jitgate: request 999 does not exist"},
		{"bad request id", bob, []string{"requests", "abc"}, 1, `jitgate: request id "abc" does not exist`},
		{"login outside scope", alice, []string{"request", "web-1", "--login", "root"}, 1, "jitgate: no contract lets anyone use login root on web-1"},
		{"unknown grant", bob, []string{"extend", "1", "--by", "10m"}, 1, "jitgate: grant 1 does not exist"},
		{"missing login and role", alice, []string{"request", "web-1"}, 2, "jitgate: missing --login (SSH) or --role (Postgres)"},
		{"both login and role", alice, []string{"request", "web-1", "--login", "a", "--role", "b"}, 2, "exclude each other"},
		{"unknown output format", alice, []string{"requests", "-o", "yaml"}, 2, `-o "yaml" is not an output format`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := jitgate(t, srv.url, tt.person, "", tt.args...)
			if res.code != tt.code {
				t.Errorf("exit status = %d, want %d", res.code, tt.code)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", res.stdout)
			}
		})
	}

	wrongToken := jitgate(t, srv.url, "", "", "--token", "not-a-token", "requests")
	if wrongToken.code != 1 || !strings.Contains(wrongToken.stderr, "jitgate: the API token matches no person") {
		t.Errorf("wrong token = exit %d, stderr %q", wrongToken.code, wrongToken.stderr)
	}
}

func TestAPIErrorBodiesFromServeProcess(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	jitgate(t, srv.url, alice, "", "request", "web-1", "--login", "deploy")

	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		code   string
	}{
		{"wrong token", "GET", "/api/v1/requests", "not-a-token", "", 401, "unauthenticated"},
		{"non-approver", "POST", "/api/v1/requests/1/approve", servertest.Token(carol), "", 403, "not_approver"},
		{"bad id", "GET", "/api/v1/requests/4242", servertest.Token(bob), "", 404, "not_found"},
		{"malformed JSON", "POST", "/api/v1/requests", servertest.Token(alice), `{"target": "web-1",`, 400, "bad_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			var body web.ErrorBody
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatalf("body %q is not a JSON error: %v", data, err)
			}
			if body.Error.Code != tt.code || body.Error.Message == "" {
				t.Errorf("error = %+v, want code %q and a message", body.Error, tt.code)
			}
		})
	}
}

func listGrants(t *testing.T, serverURL, person string) []web.GrantView {
	t.Helper()
	res := jitgate(t, serverURL, person, "", "grants", "-o", "json")
	if res.code != 0 {
		t.Fatalf("grants -o json exit status = %d", res.code)
	}
	var gs []web.GrantView
	if err := json.Unmarshal([]byte(res.stdout), &gs); err != nil {
		t.Fatalf("grants -o json = %q: %v", res.stdout, err)
	}
	return gs
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

// assertAligned checks that, in a table, the value below column starts
// where the column's header does.
func assertAligned(t *testing.T, table, column, value string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("table has %d lines, want a header and rows:\n%s", len(lines), table)
	}
	at := strings.Index(lines[0], column)
	if at < 0 {
		t.Fatalf("header %q has no column %s", lines[0], column)
	}
	for _, row := range lines[1:] {
		if len(row) < at || !strings.HasPrefix(row[at:], value) {
			t.Errorf("row %q has no %q under %s at column %d", row, value, column, at)
		}
	}
}

func TestRequestWaitInterrupted(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "request", "web-1", "--login", "deploy", "--wait")
	cmd.Env = cliEnv(srv.url, alice)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(stdout)
	m := pendingLine.FindStringSubmatch(lines.line(t, 0).text)
	if m == nil {
		t.Fatalf("first line = %q, want the pending request", lines.line(t, 0).text)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupting pid %d: %v", cmd.Process.Pid, err)
	}
	err = cmd.Wait()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Errorf("exit = %v, want status 1", err)
	}
	want := "jitgate: stopped waiting; request " + m[1] + " is still pending"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	shown := jitgate(t, srv.url, alice, "", "requests", m[1], "-o", "json")
	if !strings.Contains(shown.stdout, `"state": "pending"`) {
		t.Errorf("request after the interrupt = %s, want still pending", shown.stdout)
	}
}
