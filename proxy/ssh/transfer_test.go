package sshproxy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bulkBytes is the file size of the bulk transfer tests, 1 GiB by default.
// On a 2-vCPU VM the four transfers and their checksums took 28 s when the
// VM was idle and 41 to 80 s under load averages of 7 to 11 from other
// test runs. -short moves 64 MiB, and -args -bulk-bytes=N any size.
var bulkBytes = flag.Int64("bulk-bytes", 1<<30, "file size in bytes of TestBulkTransfersKeepChecksums")

// writeRandomFile writes size random bytes to path and returns their
// SHA-256.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// remoteDir creates a fresh folder in the login's home on the target
// through the proxy. It returns the name relative to the home and the
// path on this machine, where the test reads it because the target runs
// on loopback.
func (e *env) remoteDir(name string) (string, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rel := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	_, stderr, code := runSSH(e.t, e.sshCommand(ctx, e.user(), "127.0.0.1", "mkdir "+rel), nil)
	if code != 0 {
		e.t.Fatalf("mkdir %s on the target: exit %d: %s", rel, code, stderr)
	}
	local := filepath.Join(e.sshd.LoginHome, rel)
	e.t.Cleanup(func() { os.RemoveAll(local) })
	return rel, local
}

// copyOptions are the options scp, sftp and rsync pass to ssh.
func (e *env) copyOptions() []string {
	return append(e.sshArgs(e.keyPath), "-o", "User="+e.user())
}

func runTool(t *testing.T, ctx context.Context, name string, args ...string) {
	t.Helper()
	start := time.Now()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s took %v", name, time.Since(start).Round(time.Millisecond))
}

func TestBulkTransfersKeepChecksums(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	local := testDir(t)
	big := filepath.Join(local, "big.bin")
	size := *bulkBytes
	if testing.Short() {
		size = 64 << 20
	}
	want := writeRandomFile(t, big, size)
	rel, remote := e.remoteDir("bulk")
	port := strconv.Itoa(e.port)

	t.Run("scp upload", func(t *testing.T) {
		runTool(t, ctx, "scp", append(append(e.copyOptions(), "-P", port), big, "127.0.0.1:"+rel+"/big.bin")...)
		if got := fileSHA256(t, filepath.Join(remote, "big.bin")); got != want {
			t.Errorf("uploaded file SHA-256 = %s, want %s", got, want)
		}
	})
	t.Run("scp download", func(t *testing.T) {
		back := filepath.Join(local, "back.bin")
		runTool(t, ctx, "scp", append(append(e.copyOptions(), "-P", port), "127.0.0.1:"+rel+"/big.bin", back)...)
		if got := fileSHA256(t, back); got != want {
			t.Errorf("downloaded file SHA-256 = %s, want %s", got, want)
		}
	})
	t.Run("sftp upload", func(t *testing.T) {
		cmd := exec.CommandContext(ctx, "sftp", append(append(e.copyOptions(), "-P", port, "-b", "-"), "127.0.0.1")...)
		cmd.Stdin = strings.NewReader("put " + big + " " + rel + "/put.bin\n")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sftp put: %v\n%s", err, out)
		}
		t.Logf("sftp took %v", time.Since(start).Round(time.Millisecond))
		if got := fileSHA256(t, filepath.Join(remote, "put.bin")); got != want {
			t.Errorf("sftp upload SHA-256 = %s, want %s", got, want)
		}
	})
	t.Run("sftp download with many requests in flight", func(t *testing.T) {
		dl := filepath.Join(local, "dl")
		if err := os.Mkdir(dl, 0o755); err != nil {
			t.Fatal(err)
		}
		args := append(append(e.copyOptions(), "-P", port, "-R", "256", "-B", "262144"), "127.0.0.1:"+rel+"/big.bin", dl)
		runTool(t, ctx, "sftp", args...)
		if got := fileSHA256(t, filepath.Join(dl, "big.bin")); got != want {
			t.Errorf("sftp download SHA-256 = %s, want %s", got, want)
		}
	})
}

func TestRecursiveCopiesKeepChecksums(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	local := testDir(t)
	src := filepath.Join(local, "dir")
	want := map[string]string{}
	for i, size := range []int64{0, 1, 1 << 20, 5<<20 + 3} {
		sub := filepath.Join(src, "sub"+strconv.Itoa(i%2))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join("sub"+strconv.Itoa(i%2), "f"+strconv.Itoa(i))
		want[name] = writeRandomFile(t, filepath.Join(src, name), size)
	}
	rel, remote := e.remoteDir("tree")
	port := strconv.Itoa(e.port)
	sshForRsync := "ssh " + strings.Join(e.copyOptions(), " ") + " -p " + port

	tools := []struct {
		name string
		dest string
		args []string
	}{
		{"scp", "legacy", append(append(e.copyOptions(), "-O", "-r", "-P", port), src, "127.0.0.1:"+rel+"/legacy")},
		{"scp", "sftp-mode", append(append(e.copyOptions(), "-r", "-P", port), src, "127.0.0.1:"+rel+"/sftp-mode")},
		{"rsync", "rsync", []string{"-a", "-e", sshForRsync, src + "/", "127.0.0.1:" + rel + "/rsync/"}},
	}
	for _, tool := range tools {
		t.Run(tool.name+" "+tool.dest, func(t *testing.T) {
			runTool(t, ctx, tool.name, tool.args...)
			for name, sum := range want {
				if got := fileSHA256(t, filepath.Join(remote, tool.dest, name)); got != sum {
					t.Errorf("%s: SHA-256 = %s, want %s", name, got, sum)
				}
			}
		})
	}
}

// testDir returns a folder for local files that the test removes.
func testDir(t *testing.T) string {
	t.Helper()
	return t.TempDir()
}
