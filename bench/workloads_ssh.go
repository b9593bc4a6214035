package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ciphers the SSH transfers are measured with. OpenSSH 9.2 clients
// prefer chacha20-poly1305; AES-GCM uses AES-NI on both sides.
const (
	cipherAESGCM   = "aes128-gcm@openssh.com"
	cipherChaCha20 = "chacha20-poly1305@openssh.com"
)

// sshTransferTimeout bounds one transfer: 1 GiB at the slowest rate seen
// on 2 cores (about 100 MiB/s) takes 10 s.
const sshTransferTimeout = 5 * time.Minute

// sshLoginTimeout bounds one `ssh host true`.
const sshLoginTimeout = 30 * time.Second

// sshPath is the address and user an OpenSSH client logs in with on one
// path.
type sshPath struct {
	port int
	user string // the -l argument: login, or login@target for jitgate
	pid  int    // the proxy process whose CPU time is measured, or 0
}

func (h *harness) sshPath(name string) (sshPath, error) {
	if h.t.sshd == nil {
		return sshPath{}, fmt.Errorf("no sshd in this run")
	}
	switch name {
	case pathDirect:
		return sshPath{port: h.t.sshd.Port, user: h.t.sshd.Login}, nil
	case pathRelay:
		return sshPath{port: h.relay.port, user: h.t.sshd.Login, pid: h.relay.proc.pid()}, nil
	case pathJitgate:
		if h.jg.sshErr != nil {
			return sshPath{}, h.jg.sshErr
		}
		return sshPath{port: h.setup.ports.ssh, user: h.setup.sshLogin + "@" + sshTargetName, pid: h.jg.pid()}, nil
	}
	return sshPath{}, fmt.Errorf("no SSH path %q", name)
}

// sshArgs returns the OpenSSH client arguments for path. The client reads
// no user config and trusts any host key: every path is on loopback, and
// the host keys differ per path.
func (h *harness) sshArgs(p sshPath, cipher string, remote string) []string {
	args := []string{
		"-F", "/dev/null", "-T",
		"-i", h.t.keyPath,
		"-p", strconv.Itoa(p.port),
		"-l", p.user,
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR",
	}
	if cipher != "" {
		args = append(args, "-c", cipher)
	}
	return append(args, "127.0.0.1", remote)
}

// sshWorkloads returns the SSH transfer and login workloads of the run.
func (h *harness) sshWorkloads() []workload {
	paths := []string{pathDirect, pathRelay, pathJitgate}
	size := h.o.transferBytes
	type transfer struct {
		upload bool
		cipher string
	}
	transfers := []transfer{{true, cipherAESGCM}, {false, cipherAESGCM}, {true, cipherChaCha20}, {false, cipherChaCha20}}
	if h.o.smoke {
		transfers = transfers[:1]
	}
	var out []workload
	for _, tr := range transfers {
		direction, shell := "download", fmt.Sprintf("ssh -c %s HOST 'head -c %d /dev/zero' > /dev/null", tr.cipher, size)
		if tr.upload {
			direction, shell = "upload", fmt.Sprintf("head -c %d /dev/zero | ssh -c %s HOST 'wc -c'", size, tr.cipher)
		}
		out = append(out, workload{
			name:    fmt.Sprintf("SSH %s %s, %s", formatBytes(size), direction, tr.cipher),
			group:   groupSSH,
			unit:    "MiB/s",
			better:  higherIsBetter,
			command: shell,
			paths:   paths,
			run: func(ctx context.Context, path string) (measurement, error) {
				return h.runTransfer(ctx, path, tr.cipher, tr.upload)
			},
		})
	}
	out = append(out, workload{
		name:    "SSH login, ssh HOST true",
		group:   groupSSH,
		unit:    "s",
		better:  lowerIsBetter,
		command: fmt.Sprintf("ssh HOST true, the mean of %d logins in a row per run", h.o.setupCount),
		paths:   paths,
		run:     h.runLogins,
	})
	return out
}

// runTransfer moves transferBytes through path and returns MiB/s, with
// the proxy's CPU seconds per GiB and, for jitgate, the size of the
// recording as extra values.
func (h *harness) runTransfer(ctx context.Context, path, cipher string, upload bool) (measurement, error) {
	p, err := h.sshPath(path)
	if err != nil {
		return measurement{}, err
	}
	var meter *cpuMeter
	if p.pid != 0 {
		if meter, err = startCPUMeter(p.pid); err != nil {
			return measurement{}, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, sshTransferTimeout)
	defer cancel()
	start := time.Now()
	if upload {
		err = h.upload(ctx, p, cipher)
	} else {
		err = h.download(ctx, p, cipher)
	}
	elapsed := time.Since(start)
	if err != nil {
		return measurement{}, err
	}

	size := float64(h.o.transferBytes)
	m := measurement{value: size / (1 << 20) / elapsed.Seconds(), extra: map[string]float64{"seconds": elapsed.Seconds()}}
	if meter != nil {
		used, err := meter.used()
		if err != nil {
			return measurement{}, err
		}
		m.extra["proxy_cpu_s_per_gib"] = used.Seconds() / (size / (1 << 30))
	}
	if path == pathJitgate {
		recorded, err := removeSSHRecordings(filepath.Join(h.setup.dir, "recordings"))
		if err != nil {
			return measurement{}, err
		}
		m.extra["recording_mib"] = float64(recorded) / (1 << 20)
	}
	return m, nil
}

// upload runs `head -c N /dev/zero | ssh ... 'wc -c'` as two processes
// joined by a pipe, and checks that the target counted N bytes.
func (h *harness) upload(ctx context.Context, p sshPath, cipher string) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create the upload pipe: %w", err)
	}
	head := exec.CommandContext(ctx, "head", "-c", strconv.FormatInt(h.o.transferBytes, 10), "/dev/zero")
	head.Stdout = pw
	client := exec.CommandContext(ctx, "ssh", h.sshArgs(p, cipher, "wc -c")...)
	client.Stdin = pr
	var stdout, stderr strings.Builder
	client.Stdout, client.Stderr = &stdout, &stderr

	if err := head.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("start head: %w", err)
	}
	startErr := client.Start()
	pr.Close()
	pw.Close()
	headErr := head.Wait()

	if startErr != nil {
		return fmt.Errorf("start ssh: %w", startErr)
	}
	if err := client.Wait(); err != nil {
		return fmt.Errorf("ssh upload through port %d: %w: %s", p.port, err, strings.TrimSpace(stderr.String()))
	}
	if headErr != nil {
		return fmt.Errorf("head -c %d /dev/zero: %w", h.o.transferBytes, headErr)
	}
	if got := strings.TrimSpace(stdout.String()); got != strconv.FormatInt(h.o.transferBytes, 10) {
		return fmt.Errorf("the target counted %q bytes of the upload, want %d", got, h.o.transferBytes)
	}
	return nil
}

// download runs `ssh ... 'head -c N /dev/zero'` and counts the bytes
// that arrive.
func (h *harness) download(ctx context.Context, p sshPath, cipher string) error {
	client := exec.CommandContext(ctx, "ssh", h.sshArgs(p, cipher, "head -c "+strconv.FormatInt(h.o.transferBytes, 10)+" /dev/zero")...)
	var stderr strings.Builder
	client.Stderr = &stderr
	out, err := client.StdoutPipe()
	if err != nil {
		return fmt.Errorf("create the download pipe: %w", err)
	}
	if err := client.Start(); err != nil {
		return fmt.Errorf("start ssh: %w", err)
	}
	n, copyErr := io.CopyBuffer(io.Discard, out, make([]byte, 256<<10))
	if err := client.Wait(); err != nil {
		return fmt.Errorf("ssh download through port %d: %w: %s", p.port, err, strings.TrimSpace(stderr.String()))
	}
	if copyErr != nil {
		return fmt.Errorf("read the download: %w", copyErr)
	}
	if n != h.o.transferBytes {
		return fmt.Errorf("received %d bytes of the download, want %d", n, h.o.transferBytes)
	}
	return nil
}

// runLogins times setupCount logins of `ssh HOST true` in a row and
// returns the mean in seconds.
func (h *harness) runLogins(ctx context.Context, path string) (measurement, error) {
	p, err := h.sshPath(path)
	if err != nil {
		return measurement{}, err
	}
	var total time.Duration
	for i := 0; i < h.o.setupCount; i++ {
		loginCtx, cancel := context.WithTimeout(ctx, sshLoginTimeout)
		client := exec.CommandContext(loginCtx, "ssh", h.sshArgs(p, "", "true")...)
		start := time.Now()
		out, err := client.CombinedOutput()
		total += time.Since(start)
		cancel()
		if err != nil {
			return measurement{}, fmt.Errorf("ssh true through port %d: %w: %s", p.port, err, strings.TrimSpace(string(out)))
		}
	}
	return measurement{value: total.Seconds() / float64(h.o.setupCount)}, nil
}

// removeSSHRecordings deletes the SSH recordings under dir and returns
// their total size. A 1 GiB download writes its output into the
// recording, so keeping every run's file would fill the disk.
func removeSSHRecordings(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), "ssh-") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return os.Remove(path)
	})
	if err != nil {
		return total, fmt.Errorf("remove SSH recordings under %s: %w", dir, err)
	}
	return total, nil
}

// formatBytes writes n in GiB or MiB, such as "1 GiB" or "64 MiB".
func formatBytes(n int64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}
