// Command bench measures what jitgate costs, side by side with a direct
// connection and with a reference proxy, in one run on one machine:
//
//   - PostgreSQL: pgbench straight to PostgreSQL 15, through pgbouncer in
//     session mode, and through jitgate's Postgres front door.
//   - SSH: OpenSSH's ssh straight to sshd, through a minimal
//     golang.org/x/crypto/ssh relay that terminates both legs (the floor
//     of full termination, in sshrelay.go), and through jitgate's SSH
//     front door.
//   - jitgate alone: approval to first query result, window end to both
//     sockets closed, for Postgres connections and SSH sessions.
//   - Memory: RSS per idle connection and session, jitgate against
//     pgbouncer and the minimal relay.
//
// Each workload runs its paths in alternation (A B C A B C ...) for -runs
// rounds, because absolute numbers on a shared machine drift between
// runs while ratios measured side by side hold. Every server listens on
// 127.0.0.1 and every client dials 127.0.0.1 only.
//
// The jitgate path runs bin/jitgate (`make build`) with a config this
// program writes. Results go to OUT/latest.json, OUT/latest.md and
// OUT/tps.svg, and a full run replaces the generated section of
// docs/benchmarks.md.
//
// Usage:
//
//	go run ./bench [-smoke] [-only pg,ssh,latency,memory] [-runs N] [-duration 10s]
//
// The same binary is also the relay (`bench sshrelay ...`) and, with
// -pprof, a profiled copy of the jitgate server (`bench jitgate-pprof
// ...`); the harness starts both as child processes of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case relaySubcommand:
			exitOn(relayMain(os.Args[2:]))
			return
		case profiledSubcommand:
			exitOn(profiledMain(os.Args[2:]))
			return
		case socketWatchSubcommand:
			exitOn(socketWatchMain())
			return
		}
	}

	o, err := parseOptions(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var code int
	if o.render != "" {
		code = renderOnly(o, log)
	} else {
		code = run(ctx, o, log)
	}
	stop()
	os.Exit(code)
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
