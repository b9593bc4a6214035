package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// jitgateReadyWait bounds the wait for `jitgate serve` to print that its
// API listens, which it does after the front doors started.
const jitgateReadyWait = 60 * time.Second

// apiReadyLine starts the line `jitgate serve` prints on standard output
// once it accepts connections.
const apiReadyLine = "jitgate: API on "

// jitgateProc is a running jitgate server.
type jitgateProc struct {
	setup *jitgateSetup
	proc  *child
	api   *apiClient
	// pprofPort is the loopback port of net/http/pprof in a profiled
	// server, or 0.
	pprofPort int
	// pgErr and sshErr are the reasons a front door cannot be measured, or
	// nil when it accepts connections.
	pgErr, sshErr error
}

// startJitgate runs `jitgate serve --config` from setup, or with profile
// set, this program's profiled copy of the same server. It waits until
// the API listens and then checks which front doors accept connections.
func startJitgate(ctx context.Context, bin string, setup *jitgateSetup, profile bool, sshWanted bool) (*jitgateProc, error) {
	j := &jitgateProc{setup: setup, api: newAPIClient(fmt.Sprintf("http://127.0.0.1:%d", setup.ports.web))}
	var cmd *exec.Cmd
	if profile {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this program to start its profiled jitgate: %w", err)
		}
		if j.pprofPort, err = localtarget.FreePort(); err != nil {
			return nil, err
		}
		cmd = exec.Command(self, profiledSubcommand, "-config", setup.configPath, "-pprof-addr", "127.0.0.1:"+strconv.Itoa(j.pprofPort))
	} else {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, fmt.Errorf("resolve -jitgate %s: %w", bin, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("jitgate binary %s: %w; run `make build` first or pass -jitgate", abs, err)
		}
		cmd = exec.Command(abs, "serve", "--config", setup.configPath)
	}
	cmd.Dir = setup.dir

	ready, err := startWithReadyLine(cmd, filepath.Join(setup.dir, "jitgate.log"), j)
	if err != nil {
		return nil, err
	}
	if err := j.waitReady(ctx, ready); err != nil {
		return nil, errors.Join(err, j.stop())
	}
	j.checkDoors(sshWanted)
	return j, nil
}

// startWithReadyLine starts cmd with its standard output copied to the
// log file, and returns a channel that is closed when the API ready line
// appears.
func startWithReadyLine(cmd *exec.Cmd, logPath string, j *jitgateProc) (<-chan struct{}, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create the pipe for jitgate's output: %w", err)
	}
	cmd.Stdout = w
	proc, err := startChild("jitgate", cmd, logPath)
	w.Close() // the child holds its own copy
	if err != nil {
		r.Close()
		return nil, err
	}
	j.proc = proc

	ready := make(chan struct{})
	go func() {
		defer r.Close()
		logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			logFile = nil
		}
		scanner := bufio.NewScanner(r)
		signalled := false
		for scanner.Scan() {
			line := scanner.Text()
			if logFile != nil {
				fmt.Fprintln(logFile, line)
			}
			if !signalled && strings.HasPrefix(line, apiReadyLine) {
				close(ready)
				signalled = true
			}
		}
		if logFile != nil {
			logFile.Close()
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return ready, nil
}

func (j *jitgateProc) waitReady(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ready:
		return nil
	case <-j.proc.done:
		return fmt.Errorf("jitgate exited at start: %v\n%s", j.proc.waitErr, j.proc.logTail())
	case <-time.After(jitgateReadyWait):
		return fmt.Errorf("jitgate printed no %q line within %v\n%s", strings.TrimSpace(apiReadyLine), jitgateReadyWait, j.proc.logTail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkDoors records which front doors accept TCP connections. `jitgate
// serve` prints its API line only after it started the front doors, so a
// door that does not accept now is not running.
func (j *jitgateProc) checkDoors(sshWanted bool) {
	if !dialable(j.setup.ports.postgres) {
		j.pgErr = fmt.Errorf("jitgate serve does not listen on listen.postgres 127.0.0.1:%d: the Postgres front door is not started by this build of jitgate", j.setup.ports.postgres)
	}
	if !sshWanted {
		j.sshErr = errors.New("no sshd target in this run")
	} else if !dialable(j.setup.ports.ssh) {
		j.sshErr = fmt.Errorf("jitgate serve does not listen on listen.ssh 127.0.0.1:%d: the SSH front door is not started by this build of jitgate", j.setup.ports.ssh)
	}
}

func (j *jitgateProc) pid() int { return j.proc.pid() }

func (j *jitgateProc) stop() error {
	if j == nil || j.proc == nil {
		return nil
	}
	return j.proc.stop()
}
