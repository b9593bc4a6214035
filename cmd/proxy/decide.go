package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/web"
)

func newApproveCmd(g *globals) *cobra.Command {
	var body web.DecideBody
	var out output
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a pending access request",
		Long: `Approve request ID. When your approval completes the contract's quorum
(and its last stage), the grant starts at once; --max-duration shortens the
window, and a longer value than asked changes nothing.`,
		Args: exactArgs(1, "one request ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd, g, args[0], "approve", body, out)
		},
	}
	cmd.Flags().StringVar(&body.Comment, "comment", "", "comment shown to the requester and kept in the audit log")
	cmd.Flags().StringVar(&body.MaxDuration, "max-duration", "", "shorten the window to at most this, such as 30m")
	addOutputFlag(cmd, &out)
	return cmd
}

func newDenyCmd(g *globals) *cobra.Command {
	var body web.DecideBody
	var out output
	cmd := &cobra.Command{
		Use:   "deny ID",
		Short: "Deny a pending access request",
		Long:  "Deny request ID. One deny ends the request, whatever the quorum.",
		Args:  exactArgs(1, "one request ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd, g, args[0], "deny", body, out)
		},
	}
	cmd.Flags().StringVar(&body.Comment, "comment", "", "reason shown to the requester and kept in the audit log")
	addOutputFlag(cmd, &out)
	return cmd
}

// decide posts the vote and prints what it changed.
func decide(cmd *cobra.Command, g *globals, id, verdict string, body web.DecideBody, out output) error {
	if err := out.check(cmd); err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	var r web.RequestView
	if err := c.post(cmd.Context(), requestPath(id)+"/"+verdict, body, &r); err != nil {
		return err
	}
	if out.json() {
		return printJSON(g.stdout, r)
	}
	printVote(g.stdout, &r)
	return nil
}

func printVote(w io.Writer, r *web.RequestView) {
	if r.State == "pending" {
		fmt.Fprintf(w, "approval recorded; request %d needs more approvals before it is granted\n", r.ID)
		return
	}
	printOutcome(w, r)
}
