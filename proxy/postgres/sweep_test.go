package postgres

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

// helperConfigEnv names the config of the proxy that
// TestHelperProxyProcess runs in a child process.
const helperConfigEnv = "JITGATE_PG_HELPER_CONFIG"

// TestHelperProxyProcess is not a test: run by TestSweepAfterKill in a
// child process, it serves the front door of the config in
// JITGATE_PG_HELPER_CONFIG, prints its port and runs until it is killed.
func TestHelperProxyProcess(t *testing.T) {
	path := os.Getenv(helperConfigEnv)
	if path == "" {
		t.Skip("helper process for TestSweepAfterKill")
	}
	ctx := context.Background()
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(path), "jitgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := approval.New(approval.Options{Config: cfg, Store: st, Audit: audit.New(st, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}

	ident, err := identity.NewStatic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{
		Config: cfg, Engine: engine, Registry: session.New(session.Options{Engine: engine}), Identity: ident,
		Store: st, Recordings: recordings.NewFS(filepath.Join(filepath.Dir(path), "child-recordings")),
		StateDir: filepath.Join(filepath.Dir(path), "state"),
	})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("port=%d\n", ln.Addr().(*net.TCPAddr).Port)
	srv.Serve(ctx, ln)
}

// startChildProxy runs TestHelperProxyProcess and returns it with its
// port.
func startChildProxy(t *testing.T, cfgPath string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProxyProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperConfigEnv+"="+cfgPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "port="); ok {
				n, _ := strconv.Atoi(p)
				ports <- n
			}
		}
	}()
	select {
	case port := <-ports:
		return cmd, port
	case <-time.After(30 * time.Second):
		t.Fatal("the child proxy did not start within 30 s")
	}
	return nil, 0
}

func TestSweepAfterKill(t *testing.T) {
	e := newEnv(t, envOptions{breakGlass: true, realClock: true})
	child, port := startChildProxy(t, e.cfgPath)

	dsn := strings.Replace(e.proxyDSN("alice"), "port="+strconv.Itoa(e.port), "port="+strconv.Itoa(port), 1)
	p := startPsqlEnv(t, "alice", dsn, "select current_user;\nselect pg_sleep(60);\n", []string{"PGOPTIONS=-c jitgate.break_glass=on -c jitgate.reason=outage"})
	waitFor(t, 30*time.Second, "the session running upstream", func() bool { return e.sleeping("select pg_sleep(60);") == "1" })
	if n := e.liveRoles(); n != "1" {
		t.Fatalf("jitgate roles upstream = %s, want 1", n)
	}

	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	p.wait(t, 10*time.Second)
	if n := e.liveRoles(); n != "1" {
		t.Fatalf("jitgate roles after the kill = %s, want the orphan", n)
	}
	live, err := e.store.Credentials(t.Context(), store.CredentialFilter{States: []store.CredentialState{store.CredentialLive}})
	if err != nil || len(live) != 1 {
		t.Fatalf("live credential records after the kill = %d, %v; want 1", len(live), err)
	}

	// A restarted proxy runs Sweep before it serves.
	if err := e.srv.Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n := e.liveRoles(); n != "0" {
		t.Errorf("jitgate roles after Sweep = %s, want 0", n)
	}
	if n := e.roleBackends(); n != "0" {
		t.Errorf("backends of jitgate roles after Sweep = %s, want 0", n)
	}
	c, err := e.store.Credentials(t.Context(), store.CredentialFilter{GrantID: live[0].GrantID})
	if err != nil || len(c) != 1 || c[0].State != store.CredentialRevoked || c[0].RevokedAt.IsZero() {
		t.Errorf("credential record after Sweep = %+v, %v; want revoked", c, err)
	}
}
