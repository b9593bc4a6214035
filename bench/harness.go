package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jitgate/jitgate/web"
)

// setupTimeout bounds the start of every server before the first
// workload.
const setupTimeout = 10 * time.Minute

// fileLimit is the RLIMIT_NOFILE this program sets for itself and its
// children: each idle connection through a proxy holds two descriptors
// there, and the harness holds one per client.
const fileLimit = 65536

// throughputWindow is the window of the long grants that pgbench and the
// SSH transfers run under; it outlasts any run that -duration allows.
const throughputWindow = "12h"

// harness owns every server of one benchmark run.
type harness struct {
	o       options
	log     *slog.Logger
	work    string
	t       *targets
	bouncer *pgbouncer
	relay   *relayProc
	jg      *jitgateProc
	setup   *jitgateSetup
	// profileDir receives the -pprof profiles; heapSaved notes which heap
	// profiles exist already.
	profileDir string
	heapSaved  map[string]bool
}

// start raises the file limit, creates the working folder and starts
// every server. On error, what was started is stopped again.
func (h *harness) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	// Each idle connection holds a client and an upstream descriptor in
	// the proxy; 256 more cover listeners, logs and the store.
	if need := uint64(2*h.o.idle + 256); limit < need {
		h.log.Warn("the open-file limit is too low for the memory workload", "limit", limit, "needed", need, "idle", h.o.idle)
	}
	work, err := os.MkdirTemp("", "jitgate-bench-")
	if err != nil {
		return fmt.Errorf("create the working folder: %w", err)
	}
	// The postgres and SSH login users must traverse the folder to reach
	// their own files in it.
	if err := os.Chmod(work, 0o711); err != nil {
		return fmt.Errorf("open %s to the service users: %w", work, err)
	}
	h.work = work
	h.log.Info("working folder", "dir", work)
	if err := h.startServers(ctx); err != nil {
		return errors.Join(err, h.stop())
	}
	return nil
}

func (h *harness) startServers(ctx context.Context) error {
	pgNeeded := h.o.runs(groupPG) || h.o.runs(groupMemory)
	if pgNeeded {
		if err := ensurePgbouncer(ctx); err != nil {
			return err
		}
	}

	var err error
	h.log.Info("starting PostgreSQL 15 and loading pgbench tables", "scale", h.o.scale)
	if h.t, err = startTargets(ctx, h.work, h.o, h.log); err != nil {
		return err
	}
	if pgNeeded {
		if h.bouncer, err = startPgbouncer(ctx, h.t, filepath.Join(h.work, "pgbouncer"), h.o.idle); err != nil {
			return err
		}
	}
	if h.t.sshd != nil {
		if h.relay, err = startRelay(ctx, h.t, filepath.Join(h.work, "sshrelay")); err != nil {
			return err
		}
	}

	if h.setup, err = writeJitgateConfig(filepath.Join(h.work, "jitgate"), h.t, h.o.idle); err != nil {
		return err
	}
	if h.jg, err = startJitgate(ctx, h.o.jitgateBin, h.setup, h.o.pprof, h.t.sshd != nil); err != nil {
		return err
	}
	h.logDoors()
	h.grantThroughput(ctx)
	return nil
}

func (h *harness) logDoors() {
	if h.jg.pgErr != nil {
		h.log.Warn("jitgate Postgres path not available", "reason", h.jg.pgErr)
	}
	if h.jg.sshErr != nil && h.t.sshd != nil {
		h.log.Warn("jitgate SSH path not available", "reason", h.jg.sshErr)
	}
}

// grantThroughput gets the long grants that pgbench and the SSH
// transfers run under, so no measured connection waits for approval. A
// grant that fails makes its jitgate path unavailable.
func (h *harness) grantThroughput(ctx context.Context) {
	requester, approver := h.setup.tokens[personThroughput], h.setup.tokens[personApprover]
	if h.jg.pgErr == nil {
		_, err := h.jg.api.grantNow(ctx, requester, approver, web.CreateRequestBody{
			Target: pgTargetName, Kind: "postgres", Principal: grantRole,
			Duration: throughputWindow, Reason: "benchmark",
		})
		if err != nil {
			h.jg.pgErr = fmt.Errorf("get a grant for the Postgres workloads: %w", err)
		}
	}
	if h.jg.sshErr == nil {
		_, err := h.jg.api.grantNow(ctx, requester, approver, web.CreateRequestBody{
			Target: sshTargetName, Kind: "ssh", Principal: h.setup.sshLogin,
			Duration: throughputWindow, Reason: "benchmark",
		})
		if err != nil {
			h.jg.sshErr = fmt.Errorf("get a grant for the SSH workloads: %w", err)
		}
	}
}

// restartJitgate stops jitgate and starts it again on the same config
// and state, so a measurement starts from a fresh process. Grants live in
// the state file and survive the restart.
func (h *harness) restartJitgate(ctx context.Context) error {
	if err := h.jg.stop(); err != nil {
		return fmt.Errorf("stop jitgate: %w", err)
	}
	jg, err := startJitgate(ctx, h.o.jitgateBin, h.setup, h.o.pprof, h.t.sshd != nil)
	if err != nil {
		h.jg = &jitgateProc{setup: h.setup, pgErr: err, sshErr: err}
		return err
	}
	h.jg = jg
	return nil
}

// stop ends every server this run started, newest first, and removes the
// working folder unless -keep was given.
func (h *harness) stop() error {
	var errs []error
	if h.jg != nil {
		errs = append(errs, h.jg.stop())
	}
	errs = append(errs, h.relay.stop(), h.bouncer.stop())
	if h.t != nil {
		errs = append(errs, h.t.stop())
	}
	if h.work != "" {
		if h.o.keepWork {
			h.log.Info("kept the working folder", "dir", h.work)
		} else if err := os.RemoveAll(h.work); err != nil {
			errs = append(errs, fmt.Errorf("remove the working folder: %w", err))
		}
	}
	return errors.Join(errs...)
}

// raiseFileLimit sets RLIMIT_NOFILE of this process, and so of the
// servers it starts, to fileLimit, or to the hard limit when that is
// lower and raising it is not permitted (it needs CAP_SYS_RESOURCE). It
// returns the limit in force. Calling Setrlimit also makes Go pass this
// limit on to child processes instead of the limit it started with.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	want := syscall.Rlimit{Cur: fileLimit, Max: max(lim.Max, fileLimit)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return want.Cur, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raise the open-file limit to the hard limit %d: %w", lim.Max, err)
	}
	return lim.Cur, nil
}
