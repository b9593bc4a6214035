package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/web"
)

func newGrantsCmd(g *globals) *cobra.Command {
	var states []string
	var mine bool
	var limit int
	var out output
	cmd := &cobra.Command{
		Use:   "grants",
		Short: "List grants",
		Long: `List the grants you may see, newest first: your own, and all grants under
contracts you approve.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var list web.ListView[*web.GrantView]
			if err := c.get(cmd.Context(), "/grants", listQuery(states, mine, limit), &list); err != nil {
				return err
			}
			if out.json() {
				return printJSON(g.stdout, list.Items)
			}
			return printGrants(g.stdout, list.Items)
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: active, revoked, ended")
	cmd.Flags().BoolVar(&mine, "mine", false, "only your own grants")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (server default 100, maximum 1000)")
	addOutputFlag(cmd, &out)
	return cmd
}

func printGrants(w io.Writer, gs []*web.GrantView) error {
	t := newTable(w, "ID", "REQUEST", "STATE", "REQUESTER", "KIND", "TARGET", "PRINCIPAL", "START", "END", "CONTRACT", "FLAGS")
	for _, g := range gs {
		flags := "-"
		if g.BreakGlass {
			flags = "break-glass"
		}
		t.row(strconv.FormatInt(g.ID, 10), strconv.FormatInt(g.RequestID, 10), g.State, g.Requester, g.Kind,
			g.Target, g.Principal, formatTime(g.Start), formatTime(g.End), g.Contract, flags)
	}
	return t.flush()
}

// grantAction builds a command that posts body to /grants/ID/<action>
// and prints the grant it returns.
func grantAction(g *globals, use, short, action string, body func() any, done func(w io.Writer, gv *web.GrantView)) *cobra.Command {
	out := &output{}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1, "one grant ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			gv, err := postGrant(cmd.Context(), g, args[0], action, body())
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(g.stdout, gv)
			}
			done(g.stdout, gv)
			return nil
		},
	}
	addOutputFlag(cmd, out)
	return cmd
}

func postGrant(ctx context.Context, g *globals, id, action string, body any) (*web.GrantView, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	var gv web.GrantView
	if err := c.post(ctx, grantPath(id)+"/"+action, body, &gv); err != nil {
		return nil, err
	}
	return &gv, nil
}

func newRevokeCmd(g *globals) *cobra.Command {
	var body web.ReasonBody
	cmd := grantAction(g, "revoke GRANT", "Revoke a grant; its live sessions end at once", "revoke",
		func() any { return body },
		func(w io.Writer, gv *web.GrantView) {
			fmt.Fprintf(w, "grant %d revoked\n", gv.ID)
		})
	cmd.Flags().StringVar(&body.Reason, "reason", "", "why, shown in the audit log")
	return cmd
}

func newExtendCmd(g *globals) *cobra.Command {
	var body web.ExtendBody
	cmd := grantAction(g, "extend GRANT --by DURATION", "Move a grant's end later, within the contract's extension caps", "extend",
		func() any { return body },
		func(w io.Writer, gv *web.GrantView) {
			fmt.Fprintf(w, "grant %d now ends at %s (%d extensions, %s in total)\n", gv.ID, formatTime(gv.End), gv.Extensions, gv.Extended.Std())
		})
	cmd.Flags().StringVar(&body.By, "by", "", "how much longer, such as 30m")
	cmd.Flags().StringVar(&body.Reason, "reason", "", "why, shown in the audit log")
	_ = cmd.MarkFlagRequired("by")
	return cmd
}

func newReviewCmd(g *globals) *cobra.Command {
	var body web.ReviewBody
	cmd := grantAction(g, "review GRANT", "Record the after-the-fact review of a break-glass grant", "review",
		func() any { return body },
		func(w io.Writer, gv *web.GrantView) {
			fmt.Fprintf(w, "grant %d reviewed by %s\n", gv.ID, gv.ReviewedBy)
		})
	cmd.Flags().StringVar(&body.Comment, "comment", "", "review comment, kept in the audit log")
	return cmd
}

func newSessionsCmd(g *globals) *cobra.Command {
	var states []string
	var mine bool
	var limit int
	var out output
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List proxied sessions",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var list web.ListView[web.SessionView]
			if err := c.get(cmd.Context(), "/sessions", listQuery(states, mine, limit), &list); err != nil {
				return err
			}
			if out.json() {
				return printJSON(g.stdout, list.Items)
			}
			t := newTable(g.stdout, "ID", "GRANT", "STATE", "PERSON", "KIND", "TARGET", "PRINCIPAL", "STARTED", "ENDED", "END REASON")
			for _, s := range list.Items {
				t.row(strconv.FormatInt(s.ID, 10), strconv.FormatInt(s.GrantID, 10), s.State, s.Person, s.Kind,
					s.Target, s.Principal, formatTime(s.StartedAt), formatTime(s.EndedAt), orDash(s.EndReason))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: open, closed")
	cmd.Flags().BoolVar(&mine, "mine", false, "only your own sessions")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (server default 100, maximum 1000)")
	addOutputFlag(cmd, &out)
	return cmd
}
