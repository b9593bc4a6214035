package main

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/internal/demo"
)

// newDemoCmd builds `jitgate demo`.
func newDemoCmd(g *globals) *cobra.Command {
	var opts demo.Options
	var logFile string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run jitgate with local PostgreSQL and sshd targets and print what to type",
		Long: `demo starts, on 127.0.0.1 only, a PostgreSQL 15 target with sample data,
an OpenSSH sshd target when sshd is installed, and jitgate with a demo
contract: alice requests, bob approves. It prints the commands to type and
writes the same values to DIR/demo.env. Ctrl-C stops everything; the work
folder is removed unless --dir was given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out = g.stdout
			if logFile != "" {
				if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
					return err
				}
				f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				opts.Logger = slog.New(slog.NewTextHandler(f, nil))
			}
			return demo.Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "", "folder to keep the demo's files in (default: a temporary folder removed at exit)")
	f.DurationVar(&opts.MaxWindow, "max-window", 0, "maximum window of the demo contract (default 10m)")
	f.DurationVar(&opts.PendingTTL, "pending-ttl", 0, "how long a demo request waits for approval (default 10m)")
	f.BoolVar(&opts.NoSSH, "no-ssh", false, "skip the sshd target even when sshd is installed")
	f.StringVar(&logFile, "log-file", "", "file for the server's log (default: jitgate.log in the demo folder)")
	return cmd
}
