package sshproxy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/store"
)

func TestStdinEOFReachesTarget(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	ten := bytes.Repeat([]byte("0123456789"), 1<<20)
	tests := []struct {
		name       string
		args       []string
		stdin      []byte
		wantStdout string
	}{
		{name: "ssh -n", args: []string{"-n", "127.0.0.1", "echo hi"}, wantStdout: "hi\n"},
		{name: "wc of 10 MiB", args: []string{"127.0.0.1", "wc -c"}, stdin: ten, wantStdout: "10485760\n"},
		{name: "command after EOF", args: []string{"127.0.0.1", "cat | wc -c; echo after-eof"}, stdin: ten, wantStdout: "10485760\nafter-eof\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stdout, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), tt.args...), bytes.NewReader(tt.stdin))
			if code != 0 {
				t.Errorf("exit code = %d, want 0; stderr:\n%s", code, stderr)
			}
			if strings.TrimLeft(stdout, " ") != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantStdout)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing: no jitgate text mixes into a command's output", stderr)
			}
		})
	}
}

func TestShellWithoutPTYRecordsScript(t *testing.T) {
	e := newEnv(t, envOptions{recording: "output+input"})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	stdout, _, code := runSSH(t, e.sshCommand(ctx, e.user(), "-T", "127.0.0.1"), strings.NewReader("tty\nexit\n"))
	if code != 1 || !strings.Contains(stdout, "not a tty") {
		t.Errorf("tty over ssh -T: stdout %q, exit %d; want \"not a tty\" and 1", stdout, code)
	}

	script := "echo one; echo two >&2; echo three; exit 4\n"
	stdout, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "127.0.0.1"), strings.NewReader(script))
	if code != 4 {
		t.Errorf("exit code = %d, want 4", code)
	}
	if stdout != "one\nthree\n" || stderr != "two\n" {
		t.Errorf("stdout %q, stderr %q; want \"one\\nthree\\n\" and \"two\\n\" kept apart", stdout, stderr)
	}

	sessions, err := e.store.Sessions(ctx, store.SessionFilter{})
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions = %v, %v; want two", sessions, err)
	}
	s := e.waitSessionEnd(max(sessions[0].ID, sessions[1].ID))
	header, events, output := replayOutput(t, s.Recording)
	if header.JITGate == nil || header.JITGate.PTY {
		t.Errorf("recording header %+v does not mark the session as without a pty", header.JITGate)
	}
	if header.Width != recordings.DefaultCastWidth || header.Height != recordings.DefaultCastHeight {
		t.Errorf("recording size = %dx%d, want the 80x24 default", header.Width, header.Height)
	}
	var input strings.Builder
	for _, ev := range events {
		if ev.Code == recordings.CodeInput {
			input.WriteString(ev.Data)
		}
	}
	if input.String() != script {
		t.Errorf("recorded input = %q, want the script %q", input.String(), script)
	}
	// stdout and stderr are separate streams, so only the stdout order is
	// certain in the recording.
	if strings.ReplaceAll(output, "two\n", "") != "one\nthree\n" || !strings.Contains(output, "two\n") {
		t.Errorf("recorded output = %q, want one, two and three", output)
	}
}

func TestSFTPOnlySession(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	local := t.TempDir()
	small := filepath.Join(local, "small.txt")
	want := writeRandomFile(t, small, 1024)
	rel, remote := e.remoteDir("sftp")
	port := strconv.Itoa(e.port)

	batch := strings.Join([]string{
		"cd " + rel,
		"ls",
		"put " + small,
		"get small.txt " + filepath.Join(local, "again.txt"),
		"rename small.txt moved.txt",
		"rm moved.txt",
	}, "\n") + "\n"
	cmd := exec.CommandContext(ctx, "sftp", append(append(e.copyOptions(), "-P", port, "-b", "-"), "127.0.0.1")...)
	cmd.Stdin = strings.NewReader(batch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sftp batch: %v\n%s", err, out)
	}
	if got := fileSHA256(t, filepath.Join(local, "again.txt")); got != want {
		t.Errorf("file fetched back SHA-256 = %s, want %s", got, want)
	}
	if entries, err := os.ReadDir(remote); err != nil || len(entries) != 0 {
		t.Errorf("remote folder after rm = %v, %v; want empty", entries, err)
	}

	start := time.Now()
	_, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "-s", "127.0.0.1", "no-such-subsystem"), nil)
	if code != 255 {
		t.Errorf("unknown subsystem: exit %d, want 255; stderr %q", code, stderr)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("unknown subsystem took %v to fail, want a prompt failure", elapsed)
	}
}

func TestGitOverSSH(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	e := newEnv(t, envOptions{})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rel, _ := e.remoteDir("git")
	if _, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "127.0.0.1", "git init -q --bare "+rel+"/repo.git"), nil); code != 0 {
		t.Fatalf("git init on the target: exit %d: %s", code, stderr)
	}

	work := t.TempDir()
	sshCmd := "ssh " + strings.Join(e.sshArgs(e.keyPath), " ") + " -p " + strconv.Itoa(e.port)
	url := "ssh://" + strings.ReplaceAll(e.user(), "@", "%40") + "@127.0.0.1/~/" + rel + "/repo.git"
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_SSH_COMMAND="+sshCmd, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com",
			"GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	src := filepath.Join(work, "src")
	git(work, "init", "-q", "-b", "main", src)
	if err := os.WriteFile(filepath.Join(src, "README"), []byte("hello over jitgate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(src, "add", "README")
	git(src, "commit", "-q", "-m", "first")
	git(src, "push", "-q", url, "main")
	git(work, "clone", "-q", "-b", "main", url, filepath.Join(work, "clone"))
	got, err := os.ReadFile(filepath.Join(work, "clone", "README"))
	if err != nil || string(got) != "hello over jitgate\n" {
		t.Errorf("cloned README = %q, %v; want the pushed content", got, err)
	}
}
