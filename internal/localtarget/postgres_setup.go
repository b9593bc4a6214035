package localtarget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// postgresPreferredBinDir is the folder of the server binaries from
// Debian's postgresql-15 package, which does not put them on the PATH.
const postgresPreferredBinDir = "/usr/lib/postgresql/15/bin"

// initdbTimeout bounds initdb, which takes about a second with --no-sync.
const initdbTimeout = 2 * time.Minute

// maxUnixSocketPath is the longest unix socket path Linux accepts: sun_path
// is 108 bytes including the terminating NUL.
const maxUnixSocketPath = 107

// postgresSocketSuffix is the longest path the postmaster appends to the
// base folder for its unix socket.
const postgresSocketSuffix = "/socket/.s.PGSQL.65535"

// postgresBinaries holds absolute paths of the server programs. pg_ctl is
// not used because it daemonizes the postmaster, and this package must own
// the postmaster's PID to stop it.
type postgresBinaries struct {
	initdb   string
	postgres string
}

// findPostgresBinaries looks in binDir when set, else in the Debian
// PostgreSQL 15 folder, else on the PATH. Symlinks are resolved, so the
// pair comes from one installation.
func findPostgresBinaries(binDir string) (postgresBinaries, error) {
	if binDir != "" {
		bins, err := postgresBinariesIn(binDir)
		if err != nil {
			return postgresBinaries{}, fmt.Errorf("BinDir %s: %w", binDir, err)
		}
		return bins, nil
	}
	if bins, err := postgresBinariesIn(postgresPreferredBinDir); err == nil {
		return bins, nil
	}

	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return postgresBinaries{}, fmt.Errorf("initdb not in %s nor on the PATH: %w", postgresPreferredBinDir, ErrPostgresNotInstalled)
	}
	initdb, err = filepath.EvalSymlinks(initdb)
	if err != nil {
		return postgresBinaries{}, fmt.Errorf("resolve %s: %w", initdb, err)
	}
	return postgresBinariesIn(filepath.Dir(initdb))
}

func postgresBinariesIn(dir string) (postgresBinaries, error) {
	bins := postgresBinaries{initdb: filepath.Join(dir, "initdb"), postgres: filepath.Join(dir, "postgres")}
	for _, path := range []string{bins.initdb, bins.postgres} {
		info, err := os.Stat(path)
		if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			return postgresBinaries{}, fmt.Errorf("%s is not an executable file: %w", path, ErrPostgresNotInstalled)
		}
	}
	return bins, nil
}

// initCluster runs initdb as acct and writes the TLS files, pg_hba.conf and
// the server settings into the new data folder.
func initCluster(ctx context.Context, pg *Postgres, opts PostgresOptions, bins postgresBinaries, acct account, cert selfSignedCert) error {
	if err := makeEmptyDir(pg.DataDir, 0o700, acct); err != nil {
		return err
	}
	if err := makeEmptyDir(pg.SocketDir, 0o755, acct); err != nil {
		return err
	}

	// initdb reads the admin password from a file so it never shows in a
	// process listing. The file lives only until initdb exits.
	pwfile := filepath.Join(filepath.Dir(pg.DataDir), "initdb-password")
	if err := writeOwnedFile(pwfile, []byte(pg.AdminPassword+"\n"), 0o600, acct); err != nil {
		return err
	}
	defer os.Remove(pwfile)

	if err := runInitdb(ctx, pg, bins, acct, pwfile); err != nil {
		return err
	}

	files := []struct {
		path string
		data []byte
		perm os.FileMode
	}{
		// PostgreSQL rejects a key readable by anyone but its owner.
		{filepath.Join(pg.DataDir, "server.key"), cert.keyPEM, 0o600},
		{filepath.Join(pg.DataDir, "server.crt"), cert.certPEM, 0o644},
		{filepath.Join(pg.DataDir, "pg_hba.conf"), []byte(pgHBAConf), 0o600},
		{filepath.Join(pg.DataDir, "jitgate.conf"), []byte(serverSettings(pg, opts)), 0o600},
	}
	for _, f := range files {
		if err := writeOwnedFile(f.path, f.data, f.perm, acct); err != nil {
			return err
		}
	}
	if err := os.WriteFile(pg.CertFile, cert.certPEM, 0o644); err != nil {
		return fmt.Errorf("write the server certificate for clients to %s: %w", pg.CertFile, err)
	}
	return includeSettings(filepath.Join(pg.DataDir, "postgresql.conf"))
}

func runInitdb(ctx context.Context, pg *Postgres, bins postgresBinaries, acct account, pwfile string) error {
	ctx, cancel := context.WithTimeout(ctx, initdbTimeout)
	defer cancel()

	logFile, err := os.OpenFile(pg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open postgres log %s: %w", pg.LogPath, err)
	}
	defer logFile.Close()
	info, err := logFile.Stat()
	if err != nil {
		return fmt.Errorf("stat postgres log %s: %w", pg.LogPath, err)
	}

	cmd := exec.CommandContext(ctx, bins.initdb,
		"--pgdata="+pg.DataDir,
		"--username="+pg.AdminUser,
		"--pwfile="+pwfile,
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync", // fsync is off for the whole cluster anyway
		"--no-instructions",
	)
	cmd.Dir = filepath.Dir(pg.DataDir) // the service user may not reach the caller's folder
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = serverProcAttr(acct)

	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(pg.LogPath)
		if int64(len(data)) >= info.Size() {
			data = data[info.Size():]
		}
		return fmt.Errorf("initdb %s as OS user %s: %w\nlast lines of %s:\n%s",
			pg.DataDir, acct.name, err, pg.LogPath, lastLines(string(data), logTailLines))
	}
	return nil
}

// pgHBAConf allows only SCRAM-SHA-256 password logins, over the unix
// socket and loopback TCP with or without TLS.
const pgHBAConf = `# Written by jitgate localtarget.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
`

// serverSettings returns the settings that override initdb's defaults.
// The port is given on the postmaster command line because a retry after a
// port clash changes it.
func serverSettings(pg *Postgres, opts PostgresOptions) string {
	settings := []struct{ name, value string }{
		{"listen_addresses", confString(loopbackHost)},
		{"unix_socket_directories", confString(pg.SocketDir)},
		{"max_connections", strconv.Itoa(opts.MaxConnections)},
		{"password_encryption", confString("scram-sha-256")},
		{"ssl", "on"},
		{"ssl_cert_file", confString("server.crt")},
		{"ssl_key_file", confString("server.key")},
		// Durability off: a crash may lose or corrupt data. Only for
		// throwaway demo and test clusters, where it saves seconds.
		{"fsync", "off"},
		{"synchronous_commit", "off"},
		{"full_page_writes", "off"},
		{"logging_collector", "off"}, // stderr goes to the log file
		{"log_connections", "on"},
		{"log_line_prefix", confString("%m [%p] %q%u@%d ")},
	}
	var b strings.Builder
	b.WriteString("# Written by jitgate localtarget for a demo or test cluster.\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = %s\n", s.name, s.value)
	}
	return b.String()
}

// confString quotes s as a postgresql.conf string value.
func confString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// includeSettings appends an include of jitgate.conf to postgresql.conf;
// being last, its settings override initdb's.
func includeSettings(confPath string) error {
	f, err := os.OpenFile(confPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s to include jitgate.conf: %w", confPath, err)
	}
	if _, err := f.WriteString("\ninclude 'jitgate.conf'\n"); err != nil {
		f.Close()
		return fmt.Errorf("append the include of jitgate.conf to %s: %w", confPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", confPath, err)
	}
	return nil
}

func postgresCommand(bin, dataDir string, port int, acct account) *exec.Cmd {
	cmd := exec.Command(bin, "-D", dataDir, "-p", strconv.Itoa(port))
	cmd.Dir = filepath.Dir(dataDir)
	cmd.Env = serverEnv()
	cmd.SysProcAttr = serverProcAttr(acct)
	return cmd
}

// makeEmptyDir creates dir with perm for acct and fails when it already
// holds files, because initdb needs an empty folder and an old cluster's
// password is unknown.
func makeEmptyDir(dir string, perm os.FileMode, acct account) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("folder %s is not empty: pass a Dir without an earlier cluster, or remove it", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read folder %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create folder %s: %w", dir, err)
	}
	if err := os.Chmod(dir, perm); err != nil { // MkdirAll applies the umask
		return fmt.Errorf("set mode %v on folder %s: %w", perm, dir, err)
	}
	return acct.chown(dir)
}

// writeOwnedFile writes data to path with perm and gives it to acct.
func writeOwnedFile(path string, data []byte, perm os.FileMode, acct account) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, perm); err != nil { // WriteFile keeps an existing file's mode
		return fmt.Errorf("set mode %v on %s: %w", perm, path, err)
	}
	return acct.chown(path)
}
