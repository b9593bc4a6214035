package localtarget

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultSSHDPath is the sshd program of Debian's openssh-server package.
const DefaultSSHDPath = "/usr/sbin/sshd"

// DefaultSSHDMaxSessions is the MaxSessions default, the same as OpenSSH's.
const DefaultSSHDMaxSessions = 10

// Bounded waits for sshd.
const (
	// sshdReadyTimeout bounds the wait for sshd to send its banner.
	sshdReadyTimeout = 15 * time.Second
	// sshdPollInterval is the pause between banner checks.
	sshdPollInterval = 50 * time.Millisecond
	// sshdBannerTimeout bounds one banner check.
	sshdBannerTimeout = 2 * time.Second
	// sshdStopTimeout bounds the exit of the listener and of each
	// connection process after SIGTERM, before SIGKILL.
	sshdStopTimeout = 10 * time.Second
)

// ErrSSHDNotInstalled is returned, wrapped, when sshd is missing.
var ErrSSHDNotInstalled = errors.New("OpenSSH sshd not found: install it with `apt-get install openssh-server`")

// SSHDOptions configures StartSSHD. The zero value is usable.
type SSHDOptions struct {
	// Dir is the folder for the config, host keys and log, created when
	// missing. Empty means a temporary folder that Stop removes. See the
	// package documentation for when root keeps the files elsewhere.
	Dir string
	// Login is the OS user that logins go to when running as root.
	// Default DefaultLoginUser. Not as root, logins go to the current user.
	Login string
	// UserCAKeys are authorized_keys-format lines of the CAs whose user
	// certificates sshd accepts (TrustedUserCAKeys), for logins whose
	// certificate lists the login user as a principal.
	UserCAKeys []string
	// AuthorizedKeys are authorized_keys lines accepted for the login user
	// without a certificate.
	AuthorizedKeys []string
	// MaxSessions sets MaxSessions, the sessions per connection. Default 10.
	MaxSessions int
	// AllowTCPForwarding sets AllowTcpForwarding yes or no.
	AllowTCPForwarding bool
	// X11Forwarding sets X11Forwarding yes or no.
	X11Forwarding bool
	// Debug sets LogLevel DEBUG3 in place of VERBOSE.
	Debug bool
	// Port is the TCP port on 127.0.0.1. Zero means a random free port,
	// with a retry on a new port when another process takes it first.
	Port int
	// SSHDPath is the sshd program, an absolute path because sshd
	// re-executes itself for each connection. Default /usr/sbin/sshd.
	SSHDPath string
	// Logger receives start, retry and stop events. Nil discards them.
	Logger *slog.Logger
}

// SSHD is a running OpenSSH sshd on 127.0.0.1 that accepts public key and
// user certificate logins to one OS user.
type SSHD struct {
	Addr       string // "127.0.0.1:port"
	Port       int
	Login      string // the OS user logins go to
	LoginHome  string
	HostKeys   []ssh.PublicKey
	ConfigPath string
	LogPath    string

	proc     *process
	base     baseDir
	logger   *slog.Logger
	stopOnce sync.Once
	stopErr  error
}

// StartSSHD writes an sshd config with fresh host keys and starts sshd in
// the foreground (-D -e), logging to LogPath.
//
// ctx bounds the start only: the server runs until Stop, which the caller
// must call. On error nothing is left running.
func StartSSHD(ctx context.Context, opts SSHDOptions) (*SSHD, error) {
	opts = opts.withDefaults()
	if err := checkSSHDInstalled(opts.SSHDPath); err != nil {
		return nil, err
	}
	login, err := loginAccount(opts.Login)
	if err != nil {
		return nil, err
	}
	if err := validateKeyLines("UserCAKeys", opts.UserCAKeys, false); err != nil {
		return nil, err
	}
	if err := validateKeyLines("AuthorizedKeys", opts.AuthorizedKeys, true); err != nil {
		return nil, err
	}
	if isRoot() {
		if err := ensurePrivsepDir(); err != nil {
			return nil, err
		}
	}

	// sshd reads AuthorizedKeysFile with the login user's rights, so that
	// user must reach the folder.
	base, err := prepareBaseDir(opts.Dir, "sshd", login, 0, 0)
	if err != nil {
		return nil, err
	}
	s, err := startSSHDIn(ctx, opts, login, base)
	if err != nil {
		if removeErr := base.remove(); removeErr != nil {
			opts.Logger.Warn("temporary sshd folder left behind", "dir", base.path, "err", removeErr)
		}
		return nil, err
	}
	return s, nil
}

func (o SSHDOptions) withDefaults() SSHDOptions {
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultSSHDMaxSessions
	}
	if o.SSHDPath == "" {
		o.SSHDPath = DefaultSSHDPath
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func checkSSHDInstalled(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("SSHDPath %q is not absolute: sshd re-executes itself and needs an absolute path", path)
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file: %w", path, ErrSSHDNotInstalled)
	}
	if isRoot() {
		// openssh-server's install script creates the privilege separation
		// user; a binary without it is a half-finished install.
		if _, err := lookupAccount("sshd"); err != nil {
			return fmt.Errorf("OS user sshd, which sshd needs for privilege separation, not found (%v): %w", err, ErrSSHDNotInstalled)
		}
	}
	return nil
}

// ensurePrivsepDir creates /run/sshd, the empty folder sshd running as root
// chroots its unprivileged child into.
func ensurePrivsepDir() error {
	const privsepDir = "/run/sshd"
	if err := os.MkdirAll(privsepDir, 0o755); err != nil {
		return fmt.Errorf("create sshd privilege separation folder %s: %w", privsepDir, err)
	}
	if err := os.Chmod(privsepDir, 0o755); err != nil {
		return fmt.Errorf("set mode 0755 on %s: %w", privsepDir, err)
	}
	return nil
}

func startSSHDIn(ctx context.Context, opts SSHDOptions, login account, base baseDir) (*SSHD, error) {
	files, err := writeSSHDFiles(base.path, opts)
	if err != nil {
		return nil, err
	}

	s := &SSHD{
		Login:      login.name,
		LoginHome:  login.home,
		HostKeys:   files.hostKeys,
		ConfigPath: filepath.Join(base.path, "sshd_config"),
		LogPath:    filepath.Join(base.path, "sshd.log"),
		base:       base,
		logger:     opts.Logger,
	}

	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		s.Port = port
		s.Addr = net.JoinHostPort(loopbackHost, strconv.Itoa(port))

		config := sshdConfig(files, opts, login.name, s.Addr)
		if err := os.WriteFile(s.ConfigPath, []byte(config), 0o644); err != nil {
			return nil, fmt.Errorf("write sshd config %s: %w", s.ConfigPath, err)
		}

		cmd := exec.Command(opts.SSHDPath, "-D", "-e", "-f", s.ConfigPath)
		cmd.Dir = base.path
		cmd.Env = serverEnv()
		proc, err := startProcess("sshd", cmd, s.LogPath, syscall.SIGTERM)
		if err != nil {
			return nil, err
		}
		s.proc = proc

		err = s.waitReady(ctx)
		if err == nil {
			s.logger.Info("sshd started", "addr", s.Addr, "pid", proc.pid(), "login", s.Login, "dir", base.path)
			return s, nil
		}

		clash := proc.exited() && strings.Contains(proc.logSinceStart(), "Address already in use")
		stopErr := proc.stop(syscall.SIGTERM, sshdStopTimeout)
		if clash && opts.Port == 0 && attempt < maxPortAttempts {
			s.logger.Info("sshd port taken by another process, retrying on a new port", "port", port, "attempt", attempt)
			continue
		}
		return nil, errors.Join(proc.startError(err), stopErr)
	}
}

// waitReady polls until sshd sends its "SSH-2.0-" banner, for at most
// sshdReadyTimeout.
//
// It reads the banner only once the log shows that this sshd listens.
// Before that, the port may belong to another sshd after a port clash,
// whose banner looks the same.
func (s *SSHD) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sshdReadyTimeout)
	defer cancel()

	listening := fmt.Sprintf("Server listening on %s port %d.", loopbackHost, s.Port)
	var lastErr error
	for {
		if s.proc.exited() {
			return fmt.Errorf("sshd failed to start on %s: %w", s.Addr, s.proc.exitError())
		}
		if strings.Contains(s.proc.logSinceStart(), listening) {
			lastErr = s.readBannerOnce(ctx)
			if lastErr == nil {
				return nil
			}
		} else {
			lastErr = fmt.Errorf("log %s has no line %q yet", s.LogPath, listening)
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("sshd on %s not ready: %w (waited at most %v; last attempt: %v)",
				s.Addr, ctx.Err(), sshdReadyTimeout, lastErr)
		case <-s.proc.done:
		case <-time.After(sshdPollInterval):
		}
	}
}

// readBannerOnce connects to Addr and reads the SSH identification line.
// It gives up when sshd exits, because whatever holds the port then (after
// a port clash) may accept TCP and never send a banner.
func (s *SSHD) readBannerOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sshdBannerTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stopCloser := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopCloser()

	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the SSH banner from %s: %w", s.Addr, err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("%s sent %q, not an SSH-2.0 banner", s.Addr, strings.TrimSpace(line))
	}
	return nil
}

// KnownHostsLine returns known_hosts lines for every host key, one per
// line, each ending in a newline. hostAlias is the name the client looks
// up: a host, "host:port" (written as "[host]:port" unless the port is 22)
// or the value of the client's HostKeyAlias option. Empty means Addr.
func (s *SSHD) KnownHostsLine(hostAlias string) string {
	if hostAlias == "" {
		hostAlias = s.Addr
	}
	var b strings.Builder
	for _, key := range s.HostKeys {
		b.WriteString(knownhosts.Line([]string{hostAlias}, key))
		b.WriteString("\n")
	}
	return b.String()
}

// PID returns the process ID of the listening sshd.
func (s *SSHD) PID() int { return s.proc.pid() }

// ReadLog returns the sshd log so far, or a note why it is unreadable.
func (s *SSHD) ReadLog() string {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", s.LogPath, err)
	}
	return string(data)
}

// Stop ends sshd and everything it started: first the processes below
// the listening sshd, deepest first (session commands, then the
// per-connection sshd processes), each level with SIGTERM and up to 10 s
// before SIGKILL, then the listener itself. Going deepest first lets each
// parent reap its children, which matters where PID 1 reaps no orphans.
// Sessions call setsid, so they are found by parent PID, not by process
// group, and a command that detached itself from its session is missed.
// Stop removes the folder when this package created it. Calls after the
// first return the first result.
func (s *SSHD) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.proc != nil {
			levels, err := descendantLevels(s.proc.pid())
			errs = append(errs, err)
			for i := len(levels) - 1; i >= 0; i-- {
				errs = append(errs, stopOrphans(levels[i], syscall.SIGTERM, sshdStopTimeout))
			}
			errs = append(errs, s.proc.stop(syscall.SIGTERM, sshdStopTimeout))
		}
		errs = append(errs, s.base.remove())
		s.stopErr = errors.Join(errs...)
		s.logger.Info("sshd stopped", "addr", s.Addr, "err", s.stopErr)
	})
	return s.stopErr
}
