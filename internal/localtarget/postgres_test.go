package localtarget

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// startTestPostgres starts a cluster in a folder that the postgres OS user
// can reach, and stops it at the end of the test. This package cannot use
// internal/testenv, which imports it.
func startTestPostgres(t *testing.T, opts PostgresOptions) *Postgres {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = traversableTempDir(t)
	}

	start := time.Now()
	pg, err := StartPostgres(t.Context(), opts)
	if errors.Is(err, ErrPostgresNotInstalled) && os.Getenv("JITGATE_REQUIRE_TARGETS") == "" {
		t.Skipf("skipping, PostgreSQL is not installed (set JITGATE_REQUIRE_TARGETS=1 to fail instead): %v", err)
	}
	if err != nil {
		t.Fatalf("StartPostgres: %v", err)
	}
	t.Logf("postgres started in %v on port %d", time.Since(start).Round(time.Millisecond), pg.Port)

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postgres log %s:\n%s", pg.LogPath, lastLines(pg.ReadLog(), 40))
		}
		if err := pg.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return pg
}

// traversableTempDir returns a fresh folder that every OS user can
// traverse, unlike t.TempDir, whose parent is 0700.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "jitgate-lt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", redactDSN(dsn), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

func TestPostgresAcceptsTLSScramLogin(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})

	if pg.Host != "127.0.0.1" {
		t.Errorf("Host = %q, want 127.0.0.1", pg.Host)
	}
	conn := connect(t, pg.DSN(""))

	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("connection is %T, want *tls.Conn", conn.PgConn().Conn())
	}

	var encryption string
	if err := conn.QueryRow(t.Context(), "select current_setting('password_encryption')").Scan(&encryption); err != nil {
		t.Fatal(err)
	}
	if encryption != "scram-sha-256" {
		t.Errorf("password_encryption = %q, want scram-sha-256", encryption)
	}

	var database, user string
	var superuser bool
	row := conn.QueryRow(t.Context(), "select current_database(), current_user, rolsuper from pg_roles where rolname = current_user")
	if err := row.Scan(&database, &user, &superuser); err != nil {
		t.Fatal(err)
	}
	if database != DefaultPostgresDatabase {
		t.Errorf("current_database() = %q, want %q", database, DefaultPostgresDatabase)
	}
	if user != pg.AdminUser {
		t.Errorf("current_user = %q, want %q", user, pg.AdminUser)
	}
	if !superuser {
		t.Errorf("admin user %s is not a superuser", user)
	}

	var owner string
	if err := conn.QueryRow(t.Context(), "select pg_get_userbyid(datdba) from pg_database where datname = $1", database).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != pg.AdminUser {
		t.Errorf("database %s owned by %q, want %q", database, owner, pg.AdminUser)
	}

	var passwordHash string
	if err := conn.QueryRow(t.Context(), "select rolpassword from pg_authid where rolname = current_user").Scan(&passwordHash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(passwordHash, "SCRAM-SHA-256$") {
		t.Errorf("admin password stored as %.15q..., want a SCRAM-SHA-256 verifier", passwordHash)
	}
}

func TestPostgresSettings(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{MaxConnections: 37})
	conn := connect(t, pg.DSN(""))

	want := map[string]string{
		"max_connections":         "37",
		"ssl":                     "on",
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": pg.SocketDir,
	}
	for name, value := range want {
		var got string
		if err := conn.QueryRow(t.Context(), "select current_setting($1)", name).Scan(&got); err != nil {
			t.Fatalf("read setting %s: %v", name, err)
		}
		if got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}

	var hbaErrors int
	if err := conn.QueryRow(t.Context(), "select count(*) from pg_hba_file_rules where error is not null").Scan(&hbaErrors); err != nil {
		t.Fatal(err)
	}
	if hbaErrors != 0 {
		t.Errorf("pg_hba.conf has %d invalid lines", hbaErrors)
	}
	var nonScram int
	if err := conn.QueryRow(t.Context(), "select count(*) from pg_hba_file_rules where auth_method <> 'scram-sha-256'").Scan(&nonScram); err != nil {
		t.Fatal(err)
	}
	if nonScram != 0 {
		t.Errorf("pg_hba.conf has %d lines with a method other than scram-sha-256", nonScram)
	}
}

func TestPostgresRejectsWrongPassword(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})

	u, err := url.Parse(pg.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(pg.AdminUser, pg.AdminPassword+"x")
	conn, err := pgx.Connect(t.Context(), u.String())
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("login with a wrong password succeeded")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("login with a wrong password: %v, want SQLSTATE 28P01 invalid_password", err)
	}
}

func TestPostgresRejectsPlainTextWithoutPassword(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})

	u, err := url.Parse(pg.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(pg.AdminUser)
	u.RawQuery = "sslmode=disable"
	t.Setenv("PGPASSFILE", os.DevNull) // no stored password either
	conn, err := pgx.Connect(t.Context(), u.String())
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("login without a password succeeded")
	}
}

func TestPostgresCertificateVerifies(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})

	info, err := os.Stat(pg.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o004 == 0 {
		t.Errorf("CertFile mode %v is not readable by every user", info.Mode().Perm())
	}

	for _, host := range []string{"127.0.0.1", "localhost"} {
		u, err := url.Parse(pg.DSN(""))
		if err != nil {
			t.Fatal(err)
		}
		u.Host = net.JoinHostPort(host, strconv.Itoa(pg.Port))
		u.RawQuery = url.Values{"sslmode": {"verify-full"}, "sslrootcert": {pg.CertFile}}.Encode()

		conn, err := pgx.Connect(t.Context(), u.String())
		if err != nil {
			t.Errorf("verify-full via %s: %v", host, err)
			continue
		}
		conn.Close(context.Background())
	}
}

func TestPostgresWithPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("skipping, psql is not installed")
	}
	pg := startTestPostgres(t, PostgresOptions{Database: "psql_check"})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "--no-psqlrc", "--tuples-only", "--no-align",
		pg.DSN(""), "-c", "select current_database() || ' ' || ssl from pg_stat_ssl where pid = pg_backend_pid()")
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "psql_check true" {
		t.Errorf("psql printed %q, want %q (database name, TLS in use)", got, "psql_check true")
	}
}

func TestPostgresStopEndsPostmaster(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})
	pid := pg.PID()
	addr := net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port))

	if err := pg.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster pid %d after Stop: kill(0) = %v, want ESRCH", pid, err)
	}
	if _, err := os.Stat(filepath.Join(pg.DataDir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after Stop: %v, want it removed by a clean shutdown", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
	if err := pg.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestPostgresRetriesOnPortClash(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()
	occupiedPort := occupied.Addr().(*net.TCPAddr).Port

	calls := 0
	freePort = func() (int, error) {
		calls++
		if calls == 1 {
			return occupiedPort, nil
		}
		return FreePort()
	}
	t.Cleanup(func() { freePort = FreePort })

	pg := startTestPostgres(t, PostgresOptions{})
	if pg.Port == occupiedPort {
		t.Errorf("Port = %d, the occupied port", pg.Port)
	}
	if calls != 2 {
		t.Errorf("freePort called %d times, want 2 (one clash, one retry)", calls)
	}
	if !strings.Contains(pg.ReadLog(), "Address already in use") {
		t.Errorf("log has no bind failure, so the clash was not exercised:\n%s", pg.ReadLog())
	}
}

func TestPostgresFixedPortClashFails(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()

	_, err = StartPostgres(t.Context(), PostgresOptions{Dir: traversableTempDir(t), Port: occupied.Addr().(*net.TCPAddr).Port})
	if errors.Is(err, ErrPostgresNotInstalled) {
		t.Skip("skipping, PostgreSQL is not installed")
	}
	if err == nil {
		t.Fatal("StartPostgres on an occupied fixed port succeeded")
	}
	if !strings.Contains(err.Error(), "Address already in use") {
		t.Errorf("error does not quote the log's bind failure: %v", err)
	}
}

func TestPostgresCreateAndDropDatabase(t *testing.T) {
	pg := startTestPostgres(t, PostgresOptions{})

	if err := pg.CreateDatabase(t.Context(), "extra-db"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, pg.DSN("extra-db"))
	if err := pg.DropDatabase(t.Context(), "extra-db"); err != nil {
		t.Fatalf("DropDatabase with an open session: %v", err)
	}
	if err := conn.Ping(t.Context()); err == nil {
		t.Error("session on the dropped database still works")
	}
	if err := pg.DropDatabase(t.Context(), "extra-db"); err != nil {
		t.Errorf("DropDatabase of a missing database: %v", err)
	}
}

func TestPostgresRelocatesUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping, only root runs PostgreSQL as another OS user")
	}
	closed := t.TempDir() // its parent is 0700, closed to the postgres user
	pg := startTestPostgres(t, PostgresOptions{Dir: closed})

	if strings.HasPrefix(pg.DataDir, closed) {
		t.Fatalf("DataDir %s is under %s, which the postgres user cannot traverse", pg.DataDir, closed)
	}
	base := filepath.Dir(pg.DataDir)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary folder %s after Stop: %v, want it removed", base, err)
	}
}

func TestPostgresRejectsNonEmptyDataDir(t *testing.T) {
	dir := traversableTempDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "PG_VERSION"), []byte("15\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := StartPostgres(t.Context(), PostgresOptions{Dir: dir})
	if errors.Is(err, ErrPostgresNotInstalled) {
		t.Skip("skipping, PostgreSQL is not installed")
	}
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("StartPostgres into a used data folder: %v, want a not-empty error", err)
	}
}
