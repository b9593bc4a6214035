// Package demo runs the whole product on one machine: a PostgreSQL 15
// target with sample data, an OpenSSH sshd target when sshd is installed,
// and jitgate itself with the embedded SQLite store and a demo contract
// (alice requests, bob approves). Everything listens on 127.0.0.1 only.
// It prints the commands to type and writes them to DIR/demo.env.
package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/localtarget"
)

// Options configures a demo run.
type Options struct {
	// Dir keeps the demo's files; empty means a temporary folder that is
	// removed when the demo stops.
	Dir string
	// MaxWindow is the demo contract's maximum window. Default 10m.
	MaxWindow time.Duration
	// PendingTTL is how long a demo request waits for approval. Default 10m.
	PendingTTL time.Duration
	// NoSSH skips the sshd target even when sshd is installed.
	NoSSH bool
	// Out receives the instructions; Logger receives the server's log.
	// Default for Logger: DIR/jitgate.log.
	Out    io.Writer
	Logger *slog.Logger
}

// Env holds the values the demo prints and writes to demo.env.
type Env struct {
	Server       string // JITGATE_SERVER
	AliceToken   string
	BobToken     string
	BobPassword  string
	PGHost       string
	PGPort       int
	PGDatabase   string
	DirectDBURL  string
	SSHHost      string
	SSHPort      int
	SSHUser      string // login@target
	AliceSSHKey  string
	SSHSkipped   string // reason the demo has no SSH target, or ""
	ConfigPath   string
	Dir          string
	AlicePGRole  string
	MaxWindow    time.Duration
	PendingTTL   time.Duration
	SSHTargetLog string
}

// demoTarget and demoLogin name the demo's SSH target and login.
const (
	pgTarget  = "app"
	sshTarget = "web-1"
)

// Run starts the targets and jitgate, prints the walkthrough, and blocks
// until ctx ends; then it stops everything it started.
func Run(ctx context.Context, opts Options) error {
	opts = withDefaults(opts)
	dir, cleanup, err := workDir(opts.Dir)
	if err != nil {
		return err
	}
	defer cleanup()
	if opts.Logger == nil {
		logFile, err := os.OpenFile(filepath.Join(dir, "jitgate.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("demo: opening the server log: %w", err)
		}
		defer logFile.Close()
		opts.Logger = slog.New(slog.NewTextHandler(logFile, nil))
	}

	env := &Env{Dir: dir, MaxWindow: opts.MaxWindow, PendingTTL: opts.PendingTTL}
	pg, err := startPostgres(ctx, dir, opts.Logger)
	if err != nil {
		return err
	}
	defer stopLogged(opts.Logger, "postgres", pg.Stop)
	adminPassword, err := preparePostgres(ctx, pg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "pg-admin.pass"), []byte(adminPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo: writing the admin password file: %w", err)
	}

	ca, err := credentials.LoadOrCreateCA(filepath.Join(dir, "ssh_user_ca"))
	if err != nil {
		return fmt.Errorf("demo: creating the SSH user CA: %w", err)
	}
	var sshd *localtarget.SSHD
	if reason := sshUnavailable(opts); reason != "" {
		env.SSHSkipped = reason
	} else {
		sshd, err = localtarget.StartSSHD(ctx, localtarget.SSHDOptions{
			Dir: filepath.Join(dir, "sshd"), UserCAKeys: []string{ca.AuthorizedKey()},
			AllowTCPForwarding: true, Logger: opts.Logger,
		})
		if err != nil {
			return fmt.Errorf("demo: starting sshd: %w", err)
		}
		defer stopLogged(opts.Logger, "sshd", sshd.Stop)
		env.SSHTargetLog = sshd.LogPath
	}

	people, err := makePeople(dir)
	if err != nil {
		return err
	}
	cfgPath, ports, err := writeConfig(dir, configInput{
		pg: pg, sshd: sshd, people: people, maxWindow: opts.MaxWindow, pendingTTL: opts.PendingTTL,
	})
	if err != nil {
		return err
	}
	env.fill(pg, sshd, people, cfgPath, ports)

	srv, err := startServer(ctx, cfgPath, opts.Logger)
	if err != nil {
		return err
	}
	if err := writeEnvFile(filepath.Join(dir, "demo.env"), env); err != nil {
		return err
	}
	printWalkthrough(opts.Out, env)
	err = srv.wait()
	if opts.Dir != "" {
		fmt.Fprintf(opts.Out, "\njitgate demo stopped; its files are kept in %s\n", dir)
	} else {
		fmt.Fprintf(opts.Out, "\njitgate demo stopped; %s is removed\n", dir)
	}
	return err
}

func withDefaults(o Options) Options {
	if o.MaxWindow <= 0 {
		o.MaxWindow = 10 * time.Minute
	}
	if o.PendingTTL <= 0 {
		o.PendingTTL = 10 * time.Minute
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	return o
}

// workDir returns the demo folder and a cleanup that removes it when the
// demo made it.
func workDir(dir string) (string, func(), error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", nil, fmt.Errorf("demo: resolving --dir %q: %w", dir, err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return "", nil, fmt.Errorf("demo: creating --dir %q: %w", dir, err)
		}
		return abs, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "jitgate-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("demo: creating a temporary folder: %w", err)
	}
	// The postgres user and the SSH login user must be able to traverse
	// the folder to reach their own files in it; 0711 lets them without
	// letting anyone list it.
	if err := os.Chmod(tmp, 0o711); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("demo: opening %s to the service users: %w", tmp, err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

func startPostgres(ctx context.Context, dir string, log *slog.Logger) (*localtarget.Postgres, error) {
	pg, err := localtarget.StartPostgres(ctx, localtarget.PostgresOptions{
		Dir: filepath.Join(dir, "postgres"), Database: pgTarget, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: starting PostgreSQL 15 (install it with `apt-get install postgresql-15`): %w", err)
	}
	return pg, nil
}

func sshUnavailable(opts Options) string {
	if opts.NoSSH {
		return "--no-ssh was given"
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return "sshd is not installed; install it with `sudo apt-get install openssh-server` and run the demo again"
	}
	return ""
}

func stopLogged(log *slog.Logger, name string, stop func() error) {
	if err := stop(); err != nil {
		log.Error("stopping demo target failed", "target", name, "err", err)
	}
}

// people holds the demo users' secrets.
type people struct {
	aliceToken, bobToken, bobPassword string
	aliceKeyPath                      string
	aliceKey                          ssh.PublicKey
}

func makePeople(dir string) (*people, error) {
	p := &people{aliceToken: identity.NewToken(), bobToken: identity.NewToken(), bobPassword: "bob-" + identity.NewToken()[3:11]}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demo: generating alice's SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "alice@jitgate-demo")
	if err != nil {
		return nil, fmt.Errorf("demo: encoding alice's SSH key: %w", err)
	}
	p.aliceKeyPath = filepath.Join(dir, "alice_ed25519")
	if err := os.WriteFile(p.aliceKeyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("demo: writing alice's SSH key: %w", err)
	}
	p.aliceKey, err = ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.aliceKeyPath+".pub", ssh.MarshalAuthorizedKey(p.aliceKey), 0o644); err != nil {
		return nil, fmt.Errorf("demo: writing alice's SSH public key: %w", err)
	}
	return p, nil
}
