package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jitgate/jitgate/internal/localtarget"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestTargetsRequired(t *testing.T) {
	cases := map[string]bool{
		"":      false,
		"0":     false,
		"false": false,
		"FALSE": false,
		" ":     false,
		"1":     true,
		"true":  true,
		"yes":   true,
	}
	for value, want := range cases {
		if got := targetsRequired(value); got != want {
			t.Errorf("targetsRequired(%q) = %v, want %v", value, got, want)
		}
	}
}

func TestTempDirTraversableByOthers(t *testing.T) {
	dir := TempDir(t)
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o711 {
		t.Errorf("mode = %v, want 0711", info.Mode().Perm())
	}
	for parent := filepath.Dir(dir); parent != "/"; parent = filepath.Dir(parent) {
		info, err := os.Stat(parent)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o001 == 0 {
			t.Errorf("parent %s has mode %v, closed to other users", parent, info.Mode().Perm())
		}
	}
}

func TestDatabaseName(t *testing.T) {
	name, err := databaseName("TestProxy/Forwards Query-" + strings.Repeat("x", 80))
	if err != nil {
		t.Fatal(err)
	}
	if len(name) > 63 {
		t.Errorf("name %q has %d bytes, want at most 63", name, len(name))
	}
	if !strings.HasPrefix(name, "testproxy_forwards_query_x") {
		t.Errorf("name %q does not start with the cleaned test name", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("name %q contains %q", name, r)
		}
	}
	other, err := databaseName("TestProxy/Forwards Query-" + strings.Repeat("x", 80))
	if err != nil {
		t.Fatal(err)
	}
	if other == name {
		t.Errorf("two calls returned the same name %q", name)
	}
}

func TestPostgresStopsAtCleanup(t *testing.T) {
	var pid int
	var dataDir string
	t.Run("use", func(t *testing.T) {
		pg := Postgres(t, func(o *localtarget.PostgresOptions) { o.Database = "helper_check" })
		pid, dataDir = pg.PID(), pg.DataDir

		conn, err := pgx.Connect(t.Context(), pg.DSN(""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var database string
		if err := conn.QueryRow(t.Context(), "select current_database()").Scan(&database); err != nil {
			t.Fatal(err)
		}
		if database != "helper_check" {
			t.Errorf("current_database() = %q, want the option's helper_check", database)
		}
	})

	if pid == 0 {
		t.Fatal("subtest did not start PostgreSQL")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster pid %d after the test ended: kill(0) = %v, want ESRCH", pid, err)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data folder %s after the test ended: %v, want it removed", dataDir, err)
	}
}

func TestSharedPostgresStartsOnce(t *testing.T) {
	first := SharedPostgres(t)
	second := SharedPostgres(t)
	if first != second {
		t.Errorf("SharedPostgres returned two clusters, on ports %d and %d", first.Port, second.Port)
	}
}

func TestDatabaseDroppedAtCleanup(t *testing.T) {
	pg := SharedPostgres(t)

	var names []string
	for i := range 2 {
		t.Run("use", func(t *testing.T) {
			name := Database(t, pg)
			names = append(names, name)

			conn, err := pgx.Connect(t.Context(), pg.DSN(name))
			if err != nil {
				t.Fatalf("connect to database %d: %v", i, err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(t.Context(), "create table marker (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names %v, want two distinct names", names)
	}

	conn, err := pgx.Connect(t.Context(), pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, name := range names {
		var exists bool
		if err := conn.QueryRow(t.Context(), "select exists (select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after its test ended", name)
		}
	}
}

func TestSSHDStopsAtCleanup(t *testing.T) {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		t.Fatal(err)
	}

	var pid int
	t.Run("use", func(t *testing.T) {
		s := SSHD(t, localtarget.SSHDOptions{
			AuthorizedKeys: []string{string(ssh.MarshalAuthorizedKey(signer.PublicKey()))},
		})
		pid = s.PID()

		knownHosts := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(knownHosts, []byte(s.KnownHostsLine("")), 0o600); err != nil {
			t.Fatal(err)
		}
		callback, err := knownhosts.New(knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		client, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
			User:            s.Login,
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: callback,
			Timeout:         10 * time.Second,
		})
		if err != nil {
			t.Fatalf("login as %s: %v", s.Login, err)
		}
		defer client.Close()
		session, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer session.Close()
		out, err := session.Output("id -un")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != s.Login {
			t.Errorf("id -un printed %q, want %q", got, s.Login)
		}
	})

	if pid == 0 {
		t.Fatal("subtest did not start sshd")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("sshd pid %d after the test ended: kill(0) = %v, want ESRCH", pid, err)
	}
}
