package main

import (
	"log/slog"
	"runtime"
)

// serverProcs returns the server's GOMAXPROCS: half of Go's default, and
// at least 1. It returns false when the GOMAXPROCS environment variable
// is set, because the operator then chose the value.
//
// A relay does little work per message and hands each message from the
// thread that polled the socket to the one that writes it. With a Go
// thread per CPU, every hand-off wakes another thread, which looks for
// work and sleeps again. On the 2-CPU benchmark machine, shared with the
// clients and the targets, one thread cut the CPU per relayed Postgres
// transaction by 12 to 25% and per SSH GiB by 20%, and relayed more.
//
// NOTE: only 2-CPU machines were measured. Halving is a guess for
// larger ones, where SSH encryption for many sessions needs more threads.
func serverProcs(env string, goDefault int) (procs int, changed bool) {
	if env != "" {
		return goDefault, false
	}
	return max(1, goDefault/2), true
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
	log.Info("Go code runs on at most half of the CPUs; set GOMAXPROCS to change that",
		"gomaxprocs", procs, "cpus", goDefault)
}
