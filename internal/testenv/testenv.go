// Package testenv starts real PostgreSQL and OpenSSH sshd servers on
// loopback for tests, through internal/localtarget, and ends them when the
// test ends.
//
// A test that needs a server skips when the server is not installed,
// unless the environment variable JITGATE_REQUIRE_TARGETS is set to a
// value other than "", "0" or "false". CI sets it, so a missing install
// fails there instead of passing silently.
//
// Starting PostgreSQL costs about 1-2 s, mostly initdb. Tests that can
// share a cluster use SharedPostgres, which starts one cluster per test
// binary, and Database, which gives each test its own database in it:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		pg := testenv.SharedPostgres(t)
//		dsn := pg.DSN(testenv.Database(t, pg))
//		...
//	}
package testenv

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// RequireTargetsEnv names the environment variable that turns a missing
// PostgreSQL or sshd install from a skip into a failure.
const RequireTargetsEnv = "JITGATE_REQUIRE_TARGETS"

// logTailLines is how many lines of a server log a failed test prints.
const logTailLines = 40

// targetsRequired reports whether value, the content of
// RequireTargetsEnv, requests that missing servers fail tests.
func targetsRequired(value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "0", "false":
		return false
	}
	return true
}

// failStart ends the test after a server failed to start: a skip when the
// server is not installed and RequireTargetsEnv is unset, else a failure.
func failStart(t testing.TB, server string, err error, notInstalled error) {
	t.Helper()
	if errors.Is(err, notInstalled) && !targetsRequired(os.Getenv(RequireTargetsEnv)) {
		t.Skipf("skipping, %s is not installed (set %s=1 to fail instead): %v", server, RequireTargetsEnv, err)
	}
	t.Fatalf("start %s: %v", server, err)
}

// TempDir returns a new folder that every OS user can traverse (mode
// 0711) and removes it at the end of the test. Servers that run as another
// OS user need that, and the folders of t.TempDir are closed to others.
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := newSharedDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove test folder %s: %v", dir, err)
		}
	})
	return dir
}

// newSharedDir creates a short folder under the system temp folder with
// mode 0711. The path is kept short because PostgreSQL puts its unix
// socket in it, and socket paths are limited to 107 bytes.
func newSharedDir() (string, error) {
	dir, err := os.MkdirTemp("", "jitgate-test-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// lastLines returns the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logOnFailure prints the tail of a server log when the test has failed,
// because a server's side of a failure is only in its log.
func logOnFailure(t testing.TB, server, path string, readLog func() string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the %s log %s:\n%s", server, path, lastLines(readLog(), logTailLines))
		}
	})
}
