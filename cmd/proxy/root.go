package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// defaultServer is the API address of a server started with the default
// listen.web.
const defaultServer = "http://127.0.0.1:8080"

// Exit statuses. A command that ran but whose outcome is negative (a
// request denied, a chain that does not verify) exits 1, like a failure.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// streams are the process's standard files and environment, replaced in
// tests.
type streams struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// globals are the flags that every command shares.
type globals struct {
	streams
	server                string
	token                 string
	caFile                string
	insecureSkipTLSVerify bool
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, s streams) int {
	g := &globals{streams: s}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(s.stdin)
	root.SetOut(s.stdout)
	root.SetErr(s.stderr)
	return report(root.ExecuteContext(ctx), s.stderr)
}

// newRoot builds the command tree. A new command group joins with one
// AddCommand line.
func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "jitgate",
		Short: "Identity-aware SSH and PostgreSQL proxy with just-in-time approval",
		Long: `jitgate holds each SSH and PostgreSQL connection until an approver says yes,
then mints credentials that end with the approved window.

Client commands talk to a running server through its HTTP API. They take
the server URL from --server or JITGATE_SERVER (default ` + defaultServer + `)
and the API token from --token or JITGATE_TOKEN.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if !cmd.Flags().Changed("server") {
				if v := g.getenv("JITGATE_SERVER"); v != "" {
					g.server = v
				}
			}
		},
	}
	flags := root.PersistentFlags()
	flags.StringVar(&g.server, "server", defaultServer, "base URL of the jitgate server (env JITGATE_SERVER)")
	flags.StringVar(&g.token, "token", "", "API token; prefer JITGATE_TOKEN, because other users can read command lines")
	flags.StringVar(&g.caFile, "ca-file", "", "PEM file of the CA that signed the server's TLS certificate")
	flags.BoolVar(&g.insecureSkipTLSVerify, "insecure-skip-tls-verify", false, "accept any server TLS certificate (testing only)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{cmd: cmd, err: err}
	})

	root.AddCommand(newServeCmd(g))
	root.AddCommand(newRequestCmd(g), newRequestsCmd(g), newCancelCmd(g))
	root.AddCommand(newApproveCmd(g), newDenyCmd(g))
	root.AddCommand(newGrantsCmd(g), newRevokeCmd(g), newExtendCmd(g), newReviewCmd(g))
	root.AddCommand(newSessionsCmd(g))
	root.AddCommand(newAuditCmd(g))
	root.AddCommand(newContractCmd(g))
	root.AddCommand(newTokenCmd(g))
	root.AddCommand(newDemoCmd(g), newCACmd(g), newReplayCmd(g), newPasswordCmd(g))
	return root
}

// usageError is a command line that could not be parsed.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e usageError) Error() string {
	return fmt.Sprintf("%v (usage: %s --help)", e.err, e.cmd.CommandPath())
}

// exitStatus ends the command with a status and no further message,
// after the command printed its outcome itself.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// report prints err as "jitgate: <message>" and returns the exit status.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var status exitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	fmt.Fprintf(stderr, "jitgate: %s\n", strings.TrimSpace(err.Error()))
	var usage usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitFail
}

// exactArgs requires n positional arguments, described by what in the
// usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{cmd: cmd, err: fmt.Errorf("expected %s, got %d arguments", what, len(args))}
		}
		return nil
	}
}
