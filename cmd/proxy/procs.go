package main

import (
	"log/slog"
	"runtime"
	"strconv"

	"github.com/jitgate/jitgate/internal/cpuprio"
)

// serverProcs returns the server's GOMAXPROCS: half of Go's default, and
// at least 1. It returns false when that is Go's default, and when the
// GOMAXPROCS environment variable holds a number above 0, because the
// operator then chose the value. Go ignores other values, and so does
// serverProcs.
//
// A relay does little work per message, and each message wakes the
// goroutine that relays it. With a Go thread per CPU, such a wake-up often
// wakes a second thread too, which looks for work and sleeps again. On the
// 2-CPU benchmark machine, shared with the clients and the targets, one
// thread instead of two cut jitgate's CPU per relayed Postgres
// transaction by 12 to 17% (3% at 32 clients) and per SSH GiB by about
// 20%. A new connection per transaction cost about 5% more CPU.
//
// NOTE: only 2-CPU machines were measured. Halving is a guess for
// larger ones, where SSH encryption for many sessions needs more threads.
func serverProcs(env string, goDefault int) (procs int, changed bool) {
	if n, err := strconv.Atoi(env); err == nil && n > 0 {
		return goDefault, false
	}
	procs = max(1, goDefault/2)
	return procs, procs < goDefault
}

// limitProcs sets the server's GOMAXPROCS to the value of serverProcs
// and logs it.
func limitProcs(g *globals, log *slog.Logger) {
	goDefault := runtime.GOMAXPROCS(0)
	procs, changed := serverProcs(g.getenv("GOMAXPROCS"), goDefault)
	if !changed {
		return
	}
	runtime.GOMAXPROCS(procs)
	log.Info("Go code runs on half of the CPUs at most; set GOMAXPROCS to choose another number",
		"gomaxprocs", procs, "cpus", goDefault)
}

// logCutPriority logs whether the passes that cut sessions at a window end
// or revocation run at real-time priority, and how to permit it when they
// do not.
func logCutPriority(log *slog.Logger) {
	cpuprio.StopOnTimeLimit(log)
	if err := cpuprio.Check(); err != nil {
		log.Info("window-end cuts run at the normal CPU priority; on a busy host they may wait behind the processes they wake", "reason", err)
		return
	}
	log.Debug("window-end cuts run at real-time CPU priority")
}
