package localtarget

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for PostgresOptions.
const (
	DefaultPostgresDatabase       = "app"
	DefaultPostgresAdminUser      = "postgres"
	DefaultPostgresMaxConnections = 200
)

// Bounded waits for PostgreSQL.
const (
	// postgresReadyTimeout bounds the wait for a started postmaster to
	// accept connections, crash recovery included.
	postgresReadyTimeout = 30 * time.Second
	// postgresPollInterval is the pause between connection attempts while
	// the postmaster starts.
	postgresPollInterval = 50 * time.Millisecond
	// postgresConnectTimeout bounds one connection attempt.
	postgresConnectTimeout = 2 * time.Second
	// postgresStopTimeout bounds a fast shutdown before SIGKILL.
	postgresStopTimeout = 15 * time.Second
)

// ErrPostgresNotInstalled is returned, wrapped, when initdb or postgres is
// missing.
var ErrPostgresNotInstalled = errors.New("PostgreSQL server binaries not found: install them with `apt-get install postgresql-15`")

// PostgresOptions configures StartPostgres. The zero value is usable.
type PostgresOptions struct {
	// Dir is the folder for the cluster, created when missing, and must not
	// already contain one. Empty means a temporary folder that Stop removes.
	// See the package documentation for when root runs it elsewhere.
	Dir string
	// Database is created, owned by the admin user. Default "app".
	Database string
	// AdminUser is the superuser that initdb creates. Default "postgres".
	AdminUser string
	// MaxConnections sets max_connections. Default 200.
	MaxConnections int
	// Port is the TCP port on 127.0.0.1. Zero means a random free port,
	// with a retry on a new port when another process takes it first.
	Port int
	// BinDir holds initdb and postgres. Empty means
	// /usr/lib/postgresql/15/bin, then the PATH.
	BinDir string
	// Logger receives start, retry and stop events. Nil discards them.
	Logger *slog.Logger
}

// Postgres is a running PostgreSQL cluster on 127.0.0.1 that accepts TLS
// and SCRAM-SHA-256 password logins.
type Postgres struct {
	Host          string // always "127.0.0.1"
	Port          int
	AdminUser     string
	AdminPassword string
	Database      string
	DataDir       string
	SocketDir     string
	LogPath       string
	// CertFile is the self-signed server certificate, readable by every
	// user; pass it as sslrootcert for sslmode=verify-full.
	CertFile  string
	CACertPEM []byte

	proc     *process
	base     baseDir
	logger   *slog.Logger
	stopOnce sync.Once
	stopErr  error
}

// StartPostgres creates a cluster with initdb and starts its postmaster.
//
// ctx bounds the start only: the server runs until Stop, which the caller
// must call. On error nothing is left running.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	opts = opts.withDefaults()
	bins, err := findPostgresBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	acct, err := postgresAccount()
	if err != nil {
		return nil, err
	}
	base, err := prepareBaseDir(opts.Dir, "postgres", acct, len(postgresSocketSuffix), maxUnixSocketPath)
	if err != nil {
		return nil, err
	}

	pg, err := startPostgresIn(ctx, opts, bins, acct, base)
	if err != nil {
		if removeErr := base.remove(); removeErr != nil {
			opts.Logger.Warn("temporary postgres folder left behind", "dir", base.path, "err", removeErr)
		}
		return nil, err
	}
	return pg, nil
}

func (o PostgresOptions) withDefaults() PostgresOptions {
	if o.Database == "" {
		o.Database = DefaultPostgresDatabase
	}
	if o.AdminUser == "" {
		o.AdminUser = DefaultPostgresAdminUser
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultPostgresMaxConnections
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func startPostgresIn(ctx context.Context, opts PostgresOptions, bins postgresBinaries, acct account, base baseDir) (*Postgres, error) {
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	cert, err := newSelfSignedCert()
	if err != nil {
		return nil, err
	}

	pg := &Postgres{
		Host:          loopbackHost,
		AdminUser:     opts.AdminUser,
		AdminPassword: password,
		Database:      opts.Database,
		DataDir:       filepath.Join(base.path, "data"),
		SocketDir:     filepath.Join(base.path, "socket"),
		LogPath:       filepath.Join(base.path, "postgres.log"),
		CertFile:      filepath.Join(base.path, "server.crt"),
		CACertPEM:     cert.certPEM,
		base:          base,
		logger:        opts.Logger,
	}

	if err := initCluster(ctx, pg, opts, bins, acct, cert); err != nil {
		return nil, err
	}
	if err := pg.startPostmaster(ctx, opts, bins, acct); err != nil {
		return nil, err
	}
	return pg, nil
}

// startPostmaster starts the postmaster, waits until it accepts the admin
// login and creates the database. With a random port it retries on a new
// port when the bind fails with "Address already in use".
func (p *Postgres) startPostmaster(ctx context.Context, opts PostgresOptions, bins postgresBinaries, acct account) error {
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return err
			}
		}

		cmd := postgresCommand(bins.postgres, p.DataDir, port, acct)
		proc, err := startProcess("postgres", cmd, p.LogPath, syscall.SIGINT)
		if err != nil {
			return err
		}
		p.Port = port
		p.proc = proc

		conn, err := p.waitReady(ctx)
		if err == nil {
			err = p.createDatabase(ctx, conn)
			conn.Close(context.Background())
			if err != nil {
				return errors.Join(err, proc.stop(syscall.SIGINT, postgresStopTimeout))
			}
			p.logger.Info("postgres started", "addr", p.addr(), "pid", proc.pid(), "data_dir", p.DataDir)
			return nil
		}

		clash := proc.exited() && strings.Contains(proc.logSinceStart(), "Address already in use")
		stopErr := proc.stop(syscall.SIGINT, postgresStopTimeout)
		if clash && opts.Port == 0 && attempt < maxPortAttempts {
			p.logger.Info("postgres port taken by another process, retrying on a new port", "port", port, "attempt", attempt)
			continue
		}
		return errors.Join(proc.startError(err), stopErr)
	}
}

// DSN returns a libpq and pgx URL that logs in as the admin user to
// database, or to the Database field when database is empty, with
// sslmode=require.
func (p *Postgres) DSN(database string) string {
	if database == "" {
		database = p.Database
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.AdminUser, p.AdminPassword),
		Host:     p.addr(),
		Path:     "/" + database,
		RawQuery: "sslmode=require",
	}
	return u.String()
}

func (p *Postgres) addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// PID returns the process ID of the postmaster.
func (p *Postgres) PID() int { return p.proc.pid() }

// ReadLog returns the server log so far, or a note why it is unreadable.
func (p *Postgres) ReadLog() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", p.LogPath, err)
	}
	return string(data)
}

// Stop shuts the server down with SIGINT (fast shutdown: open sessions are
// ended) and waits up to 15 s, then sends SIGKILL. It removes the folder
// when this package created it. Calls after the first return the first
// result.
func (p *Postgres) Stop() error {
	p.stopOnce.Do(func() {
		var errs []error
		if p.proc != nil {
			errs = append(errs, p.proc.stop(syscall.SIGINT, postgresStopTimeout))
		}
		errs = append(errs, p.base.remove())
		p.stopErr = errors.Join(errs...)
		p.logger.Info("postgres stopped", "addr", p.addr(), "err", p.stopErr)
	})
	return p.stopErr
}

// randomPassword returns 24 URL-safe characters (144 random bits), safe in
// a URL, a pwfile and a shell argument without quoting.
func randomPassword() (string, error) {
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate the admin password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}
