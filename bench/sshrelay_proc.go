package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// relayReadyWait bounds the wait for the relay to accept connections.
const relayReadyWait = 15 * time.Second

// relayProc is the minimal SSH relay running as a child of this program.
type relayProc struct {
	port int
	proc *child
}

// startRelay starts this program as the minimal relay in front of sshd.
func startRelay(ctx context.Context, t *targets, dir string) (*relayProc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the relay folder: %w", err)
	}
	hostKeys := filepath.Join(dir, "target_host_keys")
	var lines []byte
	for _, k := range t.sshd.HostKeys {
		lines = append(lines, ssh.MarshalAuthorizedKey(k)...)
	}
	if err := os.WriteFile(hostKeys, lines, 0o644); err != nil {
		return nil, fmt.Errorf("write the target's host keys for the relay: %w", err)
	}

	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start the relay: %w", err)
	}
	port, err := localtarget.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, relaySubcommand,
		"-listen", "127.0.0.1:"+strconv.Itoa(port),
		"-upstream", t.sshd.Addr,
		"-login", t.sshd.Login,
		"-key", t.keyPath,
		"-host-keys", hostKeys,
	)
	proc, err := startChild("sshrelay", cmd, filepath.Join(dir, "sshrelay.log"))
	if err != nil {
		return nil, err
	}
	r := &relayProc{port: port, proc: proc}
	if err := waitDialable(ctx, port, proc, relayReadyWait); err != nil {
		return nil, errors.Join(err, proc.stop())
	}
	return r, nil
}

func (r *relayProc) stop() error {
	if r == nil {
		return nil
	}
	return r.proc.stop()
}
