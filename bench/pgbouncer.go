package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// pgbouncerBin is the path of the program in Debian's pgbouncer package.
const pgbouncerBin = "/usr/sbin/pgbouncer"

// pgbouncerOSUser is the OS user pgbouncer runs as when this program runs
// as root, because pgbouncer refuses to run as root. Debian's postgresql
// packages create it; localtarget creates it too when it starts
// PostgreSQL as root.
const pgbouncerOSUser = "postgres"

// Waits for pgbouncer.
const (
	aptInstallTimeout  = 5 * time.Minute
	pgbouncerReadyWait = 15 * time.Second
)

// ensurePgbouncer installs Debian's pgbouncer package with apt-get when
// the program is missing. Installing needs root.
func ensurePgbouncer(ctx context.Context) error {
	if _, err := os.Stat(pgbouncerBin); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is missing and installing it needs root: run `sudo apt-get install pgbouncer`", pgbouncerBin)
	}
	ctx, cancel := context.WithTimeout(ctx, aptInstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "pgbouncer")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install pgbouncer: %w\n%s\n(run `apt-get update` first when the package is not found)", err, out)
	}
	return nil
}

// pgbouncer is a running pgbouncer in session mode in front of the
// benchmark database.
type pgbouncer struct {
	port int
	dir  string
	proc *child
}

// startPgbouncer writes a config and a userlist into dir and starts
// pgbouncer on 127.0.0.1. maxClients sizes max_client_conn and the pool.
//
// Clients log in as benchUser with SCRAM-SHA-256. The userlist holds the
// SCRAM secret copied from pg_authid, so pgbouncer never receives the
// password and logs in to the server with the keys of the client's own
// SCRAM exchange. Both legs run without TLS, like every path here.
func startPgbouncer(ctx context.Context, t *targets, dir string, maxClients int) (*pgbouncer, error) {
	acct, err := serviceAccount()
	if err != nil {
		return nil, err
	}
	secret, err := scramSecret(ctx, t)
	if err != nil {
		return nil, err
	}
	port, err := localtarget.FreePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the pgbouncer folder: %w", err)
	}
	files := map[string]string{
		"pgbouncer.ini": pgbouncerConfig(t, dir, port, maxClients),
		"userlist.txt":  fmt.Sprintf("%q %q\n", benchUser, secret),
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		if err := acct.chown(path); err != nil {
			return nil, err
		}
	}

	cmd := exec.Command(pgbouncerBin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acct.credential()}
	proc, err := startChild("pgbouncer", cmd, filepath.Join(dir, "pgbouncer.log"))
	if err != nil {
		return nil, err
	}
	b := &pgbouncer{port: port, dir: dir, proc: proc}
	if err := b.waitReady(ctx, t); err != nil {
		return nil, errors.Join(err, proc.stop())
	}
	return b, nil
}

func pgbouncerConfig(t *targets, dir string, port, maxClients int) string {
	lines := []string{
		"; Written by jitgate's benchmark harness.",
		"[databases]",
		fmt.Sprintf("%s = host=%s port=%d dbname=%s", benchDatabase, t.pg.Host, t.pg.Port, benchDatabase),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		fmt.Sprintf("listen_port = %d", port),
		"unix_socket_dir =",
		"auth_type = scram-sha-256",
		"auth_file = " + filepath.Join(dir, "userlist.txt"),
		"pool_mode = session",
		fmt.Sprintf("max_client_conn = %d", maxClients+100),
		fmt.Sprintf("default_pool_size = %d", maxClients+10),
		"server_tls_sslmode = disable",
		// Clients choose: the TLS workload requires TLS, the others
		// disable it. The certificate is the benchmark server's own,
		// readable by the OS user that runs both servers.
		"client_tls_sslmode = allow",
		"client_tls_cert_file = " + t.pg.CertFile,
		"client_tls_key_file = " + filepath.Join(t.pg.DataDir, "server.key"),
	}
	return strings.Join(lines, "\n") + "\n"
}

// waitReady polls until a login through pgbouncer succeeds.
func (b *pgbouncer) waitReady(ctx context.Context, t *targets) error {
	ctx, cancel := context.WithTimeout(ctx, pgbouncerReadyWait)
	defer cancel()
	var lastErr error
	for {
		if b.proc.exited() {
			return fmt.Errorf("pgbouncer exited at start: %v\n%s", b.proc.waitErr, b.proc.logTail())
		}
		lastErr = b.tryLogin(ctx, t)
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgbouncer on port %d not ready after %v: %w\n%s", b.port, pgbouncerReadyWait, lastErr, b.proc.logTail())
		case <-time.After(pollPause):
		}
	}
}

func (b *pgbouncer) tryLogin(ctx context.Context, t *targets) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgDSN("127.0.0.1", b.port, benchUser, t.benchPassword, benchDatabase))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func (b *pgbouncer) stop() error {
	if b == nil {
		return nil
	}
	return b.proc.stop()
}

// scramSecret reads benchUser's SCRAM-SHA-256 secret from pg_authid.
func scramSecret(ctx context.Context, t *targets) (string, error) {
	conn, err := pgx.Connect(ctx, t.adminDSN())
	if err != nil {
		return "", fmt.Errorf("connect to read the SCRAM secret for pgbouncer: %w", err)
	}
	defer conn.Close(context.Background())
	var secret string
	if err := conn.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", benchUser).Scan(&secret); err != nil {
		return "", fmt.Errorf("read the SCRAM secret of %s: %w", benchUser, err)
	}
	if !strings.HasPrefix(secret, "SCRAM-SHA-256$") {
		return "", fmt.Errorf("the password of %s is not stored as SCRAM-SHA-256; check password_encryption", benchUser)
	}
	return secret, nil
}

// osAccount is the OS user a service runs as.
type osAccount struct {
	name     string
	uid, gid int
}

// serviceAccount returns pgbouncerOSUser when running as root and the
// current user otherwise.
func serviceAccount() (osAccount, error) {
	if os.Geteuid() != 0 {
		return osAccount{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup(pgbouncerOSUser)
	if err != nil {
		return osAccount{}, fmt.Errorf("OS user %s not found; pgbouncer runs as that user because it rejects running as root: %w", pgbouncerOSUser, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return osAccount{}, fmt.Errorf("parse uid %q of %s: %w", u.Uid, u.Username, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return osAccount{}, fmt.Errorf("parse gid %q of %s: %w", u.Gid, u.Username, err)
	}
	return osAccount{name: u.Username, uid: uid, gid: gid}, nil
}

func (a osAccount) credential() *syscall.Credential {
	if a.uid == os.Geteuid() {
		return nil
	}
	return &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
}

func (a osAccount) chown(path string) error {
	if a.uid == os.Geteuid() {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("give %s to OS user %s: %w", path, a.name, err)
	}
	return nil
}
