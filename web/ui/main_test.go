package ui_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the jitgate binary that the browser tests build once.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jitgate-ui-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating a folder for the jitgate binary:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce  sync.Once
	binaryPath string
	buildErr   error
	buildLog   []byte
)

// jitgateBinary builds cmd/proxy on first use, so tests that need no
// binary do not wait for the build.
func jitgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binaryPath = filepath.Join(binDir, "jitgate")
		cmd := exec.Command("go", "build", "-o", binaryPath, "github.com/jitgate/jitgate/cmd/proxy")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building jitgate: %v\n%s", buildErr, buildLog)
	}
	return binaryPath
}
