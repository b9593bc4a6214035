package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server"
	"github.com/jitgate/jitgate/web"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the hash-chained audit log",
		Long: `Verify and export the audit log. With --config FILE both commands read the
store named in FILE directly, so an auditor needs no running server and no
token; without it they ask the server through the API, which allows
people who approve under at least one contract.`,
	}
	cmd.AddCommand(newAuditVerifyCmd(g), newAuditExportCmd(g))
	return cmd
}

func newAuditVerifyCmd(g *globals) *cobra.Command {
	var configPath string
	var out output
	cmd := &cobra.Command{
		Use:   "verify [--config FILE]",
		Short: "Check every link of the audit chain",
		Long: `Walk the audit chain from the first event and check each event's hash and
its link to the one before. Prints OK with the event count and the hash of
the last event, or names the first broken event and exits 1.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			report, err := verifyAudit(cmd.Context(), g, configOrEnv(g, configPath))
			if err != nil {
				return err
			}
			if out.json() {
				err = printJSON(g.stdout, report)
			} else {
				printReport(g.stdout, report)
			}
			if err == nil && !report.OK {
				err = exitStatus(exitFail)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "read the store of this config file directly instead of asking the server (env JITGATE_CONFIG)")
	addOutputFlag(cmd, &out)
	return cmd
}

func verifyAudit(ctx context.Context, g *globals, configPath string) (web.AuditReport, error) {
	if configPath != "" {
		chain, closeStore, err := openAuditChain(ctx, configPath)
		if err != nil {
			return web.AuditReport{}, err
		}
		report, err := chain.Verify(ctx)
		return report, errors.Join(err, closeStore())
	}
	c, err := g.client()
	if err != nil {
		return web.AuditReport{}, err
	}
	var report web.AuditReport
	err = c.get(ctx, "/audit/verify", nil, &report)
	return report, err
}

func printReport(w io.Writer, r web.AuditReport) {
	if r.OK {
		fmt.Fprintf(w, "audit chain OK: %d events, head %s\n", r.Events, orDash(r.Head))
		return
	}
	fmt.Fprintf(w, "audit chain BROKEN at event %d: %s\n", r.BrokenSeq, r.Problem)
}

func newAuditExportCmd(g *globals) *cobra.Command {
	var configPath, since, until, format string
	cmd := &cobra.Command{
		Use:   "export [--since TIME] [--until TIME] [--format jsonl|csv] [--config FILE]",
		Short: "Write audit events to standard output",
		Long: `Write the audit events with a time in [--since, --until) to standard output,
oldest first, as JSON Lines or CSV. TIME is RFC 3339 (2026-03-01T09:00:00Z)
or a date (2026-03-01, the start of that day in UTC); an omitted bound is
open.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "jsonl" && format != "csv" {
				return usageError{cmd: cmd, err: fmt.Errorf("--format %q is not supported; use jsonl or csv", format)}
			}
			if path := configOrEnv(g, configPath); path != "" {
				return exportDirect(cmd.Context(), g, path, since, until, format)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{"format": {format}}
			if since != "" {
				q.Set("since", since)
			}
			if until != "" {
				q.Set("until", until)
			}
			return c.stream(cmd.Context(), "/audit/export", q, g.stdout)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "read the store of this config file directly instead of asking the server (env JITGATE_CONFIG)")
	cmd.Flags().StringVar(&since, "since", "", "first instant to include (RFC 3339 time or date)")
	cmd.Flags().StringVar(&until, "until", "", "first instant to leave out (RFC 3339 time or date)")
	cmd.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	return cmd
}

func exportDirect(ctx context.Context, g *globals, configPath, since, until, format string) error {
	from, err := parseTimeFlag("--since", since)
	if err != nil {
		return err
	}
	to, err := parseTimeFlag("--until", until)
	if err != nil {
		return err
	}
	chain, closeStore, err := openAuditChain(ctx, configPath)
	if err != nil {
		return err
	}
	return errors.Join(chain.Export(ctx, g.stdout, from, to, format), closeStore())
}

// parseTimeFlag reads an RFC 3339 time or a date; empty is the zero time.
func parseTimeFlag(name, raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-03-01T09:00:00Z or a date such as 2026-03-01", name, raw)
}

// openAuditChain opens the store of the config file for reading the audit
// log. It refuses a missing SQLite file instead of creating an empty one,
// which would verify as an empty chain.
func openAuditChain(ctx context.Context, configPath string) (web.AuditChain, func() error, error) {
	cfg, err := configs.Load(configPath)
	if err != nil {
		return nil, nil, err
	}
	if cfg.State.Driver == "sqlite" {
		if _, err := os.Stat(cfg.State.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("state file %s does not exist; check state.path in %s", cfg.State.Path, configPath)
		}
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return server.NewAuditChain(st), st.Close, nil
}

// configOrEnv returns the --config value, or JITGATE_CONFIG when the flag
// is empty, so a shell that loaded demo.env needs no flag.
func configOrEnv(g *globals, flag string) string {
	if flag != "" {
		return flag
	}
	return g.getenv("JITGATE_CONFIG")
}
