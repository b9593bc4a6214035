// Command jitgate is the jitgate binary: the server (`jitgate serve`) and
// the client commands that drive it through the HTTP API (request,
// approve, revoke, ...), plus the offline tools for auditors and operators
// (audit verify, contract check, token).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM end the context: the server shuts down cleanly and
	// a waiting `request --wait` prints that the request is still pending.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := run(ctx, os.Args[1:], streams{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
	})
	stop()
	os.Exit(status)
}
