package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/internal/localtarget"
)

// Names inside the benchmark cluster and on the sshd target.
const (
	benchDatabase = "bench"
	// benchUser is the role that direct and pgbouncer connections log in
	// as; it has the same privileges as jitgate's temporary roles, through
	// membership of grantRole.
	benchUser = "bench_user"
	grantRole = "readwrite"
	adminRole = "jitgate_admin"
)

// pgbenchInitTimeout bounds `pgbench -i`, which takes about 10 s at
// scale 10 on 2 cores.
const pgbenchInitTimeout = 5 * time.Minute

// targets are the real servers behind every path.
type targets struct {
	pg            *localtarget.Postgres
	benchPassword string // benchUser's password
	adminPassword string // adminRole's password
	sshd          *localtarget.SSHD
	// keyPath is the private key the SSH clients use. Direct sshd and the
	// relay accept its public key, and jitgate's config lists it as the
	// person's key.
	keyPath   string
	signer    ssh.Signer
	publicKey string // authorized_keys line
	ca        *credentials.SSHCA
}

// startTargets starts PostgreSQL 15 with the pgbench tables and sshd. ctx
// bounds the start only.
func startTargets(ctx context.Context, work string, o options, log *slog.Logger) (*targets, error) {
	t := &targets{}
	if err := t.makeKey(work); err != nil {
		return nil, err
	}
	var err error
	t.ca, err = credentials.LoadOrCreateCA(filepath.Join(work, "jitgate", "ssh_user_ca"))
	if err != nil {
		return nil, fmt.Errorf("create jitgate's SSH user CA: %w", err)
	}

	t.pg, err = localtarget.StartPostgres(ctx, localtarget.PostgresOptions{
		Dir:            filepath.Join(work, "postgres"),
		Database:       benchDatabase,
		MaxConnections: o.idle + pgSpareConnections,
		Logger:         log,
	})
	if err != nil {
		return nil, fmt.Errorf("start PostgreSQL 15: %w", err)
	}
	if err := t.preparePostgres(ctx, o.scale); err != nil {
		return nil, t.stopAfter(err)
	}
	// The latency group has an SSH window-end workload.
	if o.runs(groupSSH) || o.runs(groupLatency) || o.runs(groupMemory) {
		t.sshd, err = localtarget.StartSSHD(ctx, localtarget.SSHDOptions{
			Dir:            filepath.Join(work, "sshd"),
			UserCAKeys:     []string{t.ca.AuthorizedKey()},
			AuthorizedKeys: []string{t.publicKey},
			Logger:         log,
		})
		if err != nil {
			return nil, t.stopAfter(fmt.Errorf("start sshd: %w", err))
		}
	}
	return t, nil
}

// pgSpareConnections is the number of PostgreSQL connections beyond the
// idle-connection workload: pgbench -c 32 and its pgbouncer pool, the
// admin and role-issuer connections.
const pgSpareConnections = 150

func (t *targets) stopAfter(err error) error {
	if stopErr := t.stop(); stopErr != nil {
		return fmt.Errorf("%w (stopping the targets also failed: %v)", err, stopErr)
	}
	return err
}

func (t *targets) stop() error {
	var errs []error
	if t.sshd != nil {
		errs = append(errs, t.sshd.Stop())
	}
	if t.pg != nil {
		errs = append(errs, t.pg.Stop())
	}
	return errors.Join(errs...)
}

// makeKey writes an ed25519 key pair for the SSH clients.
func (t *targets) makeKey(work string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate the client SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "jitgate-bench")
	if err != nil {
		return fmt.Errorf("encode the client SSH key: %w", err)
	}
	t.keyPath = filepath.Join(work, "client_ed25519")
	if err := os.WriteFile(t.keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write the client SSH key: %w", err)
	}
	if t.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		return fmt.Errorf("load the client SSH key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("convert the client SSH key: %w", err)
	}
	t.publicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	return nil
}

// preparePostgres loads the pgbench tables and creates the roles.
func (t *targets) preparePostgres(ctx context.Context, scale int) error {
	if err := t.pgbenchInit(ctx, scale); err != nil {
		return err
	}
	t.benchPassword = randomSecret()
	t.adminPassword = randomSecret()
	statements := []string{
		"CREATE ROLE " + grantRole + " NOLOGIN",
		"GRANT USAGE ON SCHEMA public TO " + grantRole,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + grantRole,
		// randomSecret returns only base64url characters, safe inside quotes.
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE %s", benchUser, t.benchPassword, grantRole),
		fmt.Sprintf("CREATE ROLE %s LOGIN CREATEROLE PASSWORD '%s'", adminRole, t.adminPassword),
		// ADMIN OPTION lets the issuer grant the role to temporary roles;
		// pg_signal_backend lets it end their backends at the window end.
		"GRANT " + grantRole + " TO " + adminRole + " WITH ADMIN OPTION",
		"GRANT pg_signal_backend TO " + adminRole,
	}
	return t.adminExec(ctx, statements...)
}

// pgbenchInit runs `pgbench -i` as the superuser.
func (t *targets) pgbenchInit(ctx context.Context, scale int) error {
	ctx, cancel := context.WithTimeout(ctx, pgbenchInitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(scale),
		"-h", t.pg.Host, "-p", strconv.Itoa(t.pg.Port), "-U", t.pg.AdminUser, benchDatabase)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+t.pg.AdminPassword, "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench -i -s %d: %w\n%s", scale, err, out)
	}
	return nil
}

// adminExec runs statements as the cluster's superuser.
func (t *targets) adminExec(ctx context.Context, statements ...string) error {
	conn, err := pgx.Connect(ctx, t.adminDSN())
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", benchDatabase, t.pg.AdminUser, err)
	}
	defer conn.Close(context.Background())
	for _, stmt := range statements {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", redactPasswords(stmt), err)
		}
	}
	return nil
}

func (t *targets) adminDSN() string {
	return pgDSN(t.pg.Host, t.pg.Port, t.pg.AdminUser, t.pg.AdminPassword, benchDatabase)
}

// pgDSN returns a keyword/value connection string without TLS: every path
// of the benchmark runs without TLS so that only the proxying differs.
func pgDSN(host string, port int, user, password, database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		host, port, user, password, database)
}

// redactPasswords hides the literal after PASSWORD in a statement that is
// about to appear in an error message.
func redactPasswords(stmt string) string {
	before, _, found := strings.Cut(stmt, "PASSWORD '")
	if !found {
		return stmt
	}
	return before + "PASSWORD '...'"
}

// randomSecret returns 24 base64url characters (144 random bits).
func randomSecret() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read is documented to never return an error since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
