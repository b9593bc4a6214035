package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/server/servertest"
)

func TestContractCheckListsContracts(t *testing.T) {
	config := servertest.WriteConfig(t, t.TempDir(), servertest.Options{})
	cfg, err := configs.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	res := jitgate(t, "", "", "", "contract", "check", "--config", config)
	if res.code != 0 {
		t.Fatalf("exit status = %d, want 0", res.code)
	}
	for _, c := range cfg.Contracts {
		if !strings.Contains(res.stdout, c.Hash()) {
			t.Errorf("output lacks the hash %s of contract %s", c.Hash(), c.ID)
		}
	}
	assertAligned(t, strings.SplitN(res.stdout, "warning:", 2)[0], "ID", "")
	if !strings.Contains(res.stdout, "warning: contract dual: no compliance ids") {
		t.Errorf("output lacks the missing-compliance warning for contract dual:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "warning: contract ops: break-glass is on") {
		t.Errorf("output lacks the break-glass warning for contract ops:\n%s", res.stdout)
	}
}

func TestContractCheckReportsLineAndPath(t *testing.T) {
	dir := t.TempDir()
	good := servertest.WriteConfig(t, dir, servertest.Options{})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "quorum: 2", "quorum: 5", 1)
	line := 1 + strings.Count(text[:strings.Index(text, "quorum: 5")], "\n")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	res := jitgate(t, "", "", "", "contract", "check", "--config", bad)
	if res.code != 1 {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	want := bad + ":" + strconv.Itoa(line) + ": contracts[1].approval.quorum: "
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
	if !strings.Contains(res.stderr, "jitgate: "+bad+" has 1 problem;") {
		t.Errorf("stderr = %q, want the count of problems last", res.stderr)
	}
}

func TestTokenNewAndHash(t *testing.T) {
	res := jitgate(t, "", "", "", "token", "new")
	if res.code != 0 {
		t.Fatalf("token new exit status = %d", res.code)
	}
	var token, hash string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			token = v
		}
		if v, ok := strings.CutPrefix(line, "hash:  "); ok {
			hash = v
		}
	}
	if token == "" || hash != identity.HashToken(token) {
		t.Fatalf("token new printed token %q and hash %q; want a token and its hash", token, hash)
	}

	hashed := jitgate(t, "", "", token+"\n", "token", "hash")
	if hashed.code != 0 || strings.TrimSpace(hashed.stdout) != hash {
		t.Errorf("token hash = exit %d, %q; want %s", hashed.code, hashed.stdout, hash)
	}
	empty := jitgate(t, "", "", "", "token", "hash")
	if empty.code != 1 || !strings.Contains(empty.stderr, "standard input is empty") {
		t.Errorf("token hash with no input = exit %d, stderr %q", empty.code, empty.stderr)
	}
}

func TestClientFailuresWithoutServer(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + closed.Addr().String()
	closed.Close()

	noToken := jitgate(t, url, "", "", "requests")
	if noToken.code != 1 || !strings.Contains(noToken.stderr, "jitgate: no API token; set JITGATE_TOKEN or pass --token") {
		t.Errorf("without a token = exit %d, stderr %q", noToken.code, noToken.stderr)
	}
	unreachable := jitgate(t, url, alice, "", "requests")
	if unreachable.code != 1 || !strings.Contains(unreachable.stderr, "jitgate: cannot reach the jitgate server at "+url) {
		t.Errorf("with no server = exit %d, stderr %q", unreachable.code, unreachable.stderr)
	}
	flag := jitgate(t, "", alice, "", "--server", url, "grants")
	if !strings.Contains(flag.stderr, url) {
		t.Errorf("--server was not used: stderr %q", flag.stderr)
	}
	missing := jitgate(t, "", "", "", "audit", "verify", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if missing.code != 1 || !strings.Contains(missing.stderr, "none.yaml") {
		t.Errorf("verify with a missing config = exit %d, stderr %q", missing.code, missing.stderr)
	}
}

func TestAuditVerifyRefusesMissingStateFile(t *testing.T) {
	dir := t.TempDir()
	config := servertest.WriteConfig(t, dir, servertest.Options{})
	res := jitgate(t, "", "", "", "audit", "verify", "--config", config)
	if res.code != 1 || !strings.Contains(res.stderr, "jitgate.db does not exist") {
		t.Errorf("verify without a state file = exit %d, stderr %q", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "jitgate.db")); err == nil {
		t.Error("audit verify created the missing state file")
	}
}

func TestAuditVerifyReadsConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	config := servertest.WriteConfig(t, dir, servertest.Options{})
	cmd := exec.Command(binary, "audit", "verify")
	cmd.Env = append(cliEnv("", ""), "JITGATE_CONFIG="+config)
	out, _ := cmd.CombinedOutput()
	// The state file is missing, so the message proves the command read
	// the config named by JITGATE_CONFIG instead of asking a server.
	if !strings.Contains(string(out), "jitgate.db does not exist") {
		t.Errorf("audit verify with JITGATE_CONFIG printed %q, want the missing state file named", out)
	}
}
