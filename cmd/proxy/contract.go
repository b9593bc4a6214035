package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/configs"
)

// expirySoon is the time before a contract's end from which `contract
// check` warns about it.
const expirySoon = 30 * 24 * time.Hour

func newContractCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Check the contracts of a config file",
	}
	cmd.AddCommand(newContractCheckCmd(g))
	return cmd
}

// contractSummary is one line of `contract check`, and its JSON form.
type contractSummary struct {
	ID        string   `json:"id"`
	Version   int      `json:"version"`
	Party     string   `json:"party"`
	Kind      string   `json:"kind"`
	Effective string   `json:"effective"`
	Expires   string   `json:"expires"`
	Hash      string   `json:"hash"`
	Warnings  []string `json:"warnings,omitempty"`
}

func newContractCheckCmd(g *globals) *cobra.Command {
	var configPath string
	var out output
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Load and validate a config file and list its contracts",
		Long: `Load and validate the config FILE as the server would. On success, list each
contract with the hash that grants under it record, followed by warnings
about terms worth a second look. On failure, print every problem with its
file, line and key path, and exit 1.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			if configPath == "" {
				return usageError{cmd: cmd, err: fmt.Errorf("--config is required")}
			}
			cfg, err := configs.Load(configPath)
			if err != nil {
				return reportConfigErrors(g.stderr, configPath, err)
			}
			summaries := summarize(cfg, time.Now())
			if out.json() {
				return printJSON(g.stdout, summaries)
			}
			return printContracts(g.stdout, summaries)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML)")
	addOutputFlag(cmd, &out)
	return cmd
}

// reportConfigErrors prints each problem on its own line, then fails with
// their count.
func reportConfigErrors(w io.Writer, path string, err error) error {
	problems := configs.FieldErrors(err)
	if len(problems) == 0 {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(w, p.Error())
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("%s has %d %s; fix them and run the check again", path, len(problems), noun)
}

func summarize(cfg *configs.Config, now time.Time) []contractSummary {
	out := make([]contractSummary, len(cfg.Contracts))
	for i := range cfg.Contracts {
		c := &cfg.Contracts[i]
		out[i] = contractSummary{
			ID: c.ID, Version: c.Version, Party: c.Party, Kind: c.Kind,
			Effective: c.Effective.Format(time.DateOnly), Expires: c.Expires.Format(time.DateOnly),
			Hash: c.Hash(), Warnings: contractWarnings(c, now),
		}
	}
	return out
}

// contractWarnings lists terms that load fine but that an operator should
// confirm: dates that make the contract unusable now or soon, and opt-ins
// that weaken the approval rules.
func contractWarnings(c *configs.Contract, now time.Time) []string {
	var w []string
	switch {
	case !now.Before(c.NotAfter()):
		w = append(w, fmt.Sprintf("expired on %s; no request can use it", c.Expires.Format(time.DateOnly)))
	case now.Before(c.NotBefore()):
		w = append(w, fmt.Sprintf("not in effect until %s", c.Effective.Format(time.DateOnly)))
	case c.NotAfter().Sub(now) < expirySoon:
		w = append(w, fmt.Sprintf("expires on %s, within %d days", c.Expires.Format(time.DateOnly), int(expirySoon.Hours()/24)))
	}
	if c.Approval.SelfApproval == "allowed" {
		w = append(w, "self_approval is allowed: requesters who are also approvers can approve their own requests")
	}
	if c.BreakGlass != nil {
		w = append(w, fmt.Sprintf("break-glass is on: its requesters get up to %s without approval, reviewed within %s",
			c.BreakGlass.MaxWindow, c.BreakGlass.ReviewWithin))
	}
	if len(c.Compliance) == 0 {
		w = append(w, "no compliance ids: the evidence report will not map it to any control")
	}
	return w
}

func printContracts(w io.Writer, cs []contractSummary) error {
	t := newTable(w, "ID", "VERSION", "KIND", "PARTY", "EFFECTIVE", "EXPIRES", "HASH")
	for _, c := range cs {
		t.row(c.ID, strconv.Itoa(c.Version), c.Kind, c.Party, c.Effective, c.Expires, c.Hash)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, c := range cs {
		for _, warning := range c.Warnings {
			fmt.Fprintf(w, "warning: contract %s: %s\n", c.ID, warning)
		}
	}
	return nil
}
