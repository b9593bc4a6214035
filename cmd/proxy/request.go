package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitgate/jitgate/web"
)

// waitPoll is the timeout of each long poll of `request --wait`; the loop
// repeats until the request is decided.
const waitPoll = 30 * time.Second

type requestFlags struct {
	login, role              string
	duration, trigger        string
	reason, ticket, contract string
	breakGlass, wait         bool
	out                      output
}

func newRequestCmd(g *globals) *cobra.Command {
	var f requestFlags
	cmd := &cobra.Command{
		Use:   "request TARGET (--login LOGIN | --role ROLE)",
		Short: "Ask for access to an SSH host or a Postgres server",
		Long: `Ask for access to TARGET: an SSH login with --login, or a Postgres role
with --role. The contract that covers the target decides who must approve.

With --wait the command blocks until the request is decided and prints the
outcome; it exits 0 when approved and 1 when denied, expired or cancelled.
A second request for the same target and login or role while one is
pending joins the pending one.`,
		Args: exactArgs(1, "one TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.out.check(cmd); err != nil {
				return err
			}
			body, err := f.body(cmd, args[0])
			if err != nil {
				return err
			}
			return submitRequest(cmd.Context(), g, body, f.wait, f.out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.login, "login", "", "SSH login to use on the target")
	fl.StringVar(&f.role, "role", "", "Postgres role to use on the target")
	fl.StringVar(&f.duration, "duration", "", "window to ask for, such as 30m or 2h (default: the contract's default)")
	fl.StringVar(&f.trigger, "trigger", "", "why access is needed, one of the contract's triggers (such as incident)")
	fl.StringVar(&f.reason, "reason", "", "free-text reason shown to approvers")
	fl.StringVar(&f.ticket, "ticket", "", "ticket id, when the contract asks for one (such as INC-1234)")
	fl.StringVar(&f.contract, "contract", "", "contract id, when several contracts cover the target")
	fl.BoolVar(&f.breakGlass, "break-glass", false, "grant access at once under the contract's break-glass terms; it is reviewed afterwards")
	fl.BoolVar(&f.wait, "wait", false, "block until the request is decided and print the outcome")
	addOutputFlag(cmd, &f.out)
	return cmd
}

func (f *requestFlags) body(cmd *cobra.Command, target string) (web.CreateRequestBody, error) {
	body := web.CreateRequestBody{
		Target: target, Duration: f.duration, Trigger: f.trigger, Reason: f.reason,
		Ticket: f.ticket, Contract: f.contract, BreakGlass: f.breakGlass,
	}
	switch {
	case f.login != "" && f.role != "":
		return body, usageError{cmd: cmd, err: errors.New("--login and --role exclude each other; give --login for SSH or --role for Postgres")}
	case f.login != "":
		body.Kind, body.Principal = "ssh", f.login
	case f.role != "":
		body.Kind, body.Principal = "postgres", f.role
	default:
		return body, usageError{cmd: cmd, err: errors.New("missing --login (SSH) or --role (Postgres)")}
	}
	return body, nil
}

func submitRequest(ctx context.Context, g *globals, body web.CreateRequestBody, wait bool, out output) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	var r web.RequestView
	if err := c.post(ctx, "/requests", body, &r); err != nil {
		return err
	}
	if !wait {
		if out.json() {
			return printJSON(g.stdout, r)
		}
		printSubmitted(g.stdout, &r)
		return nil
	}
	if !out.json() {
		printSubmitted(g.stdout, &r)
	}
	if r.State == "pending" {
		fmt.Fprintf(g.stderr, "waiting for a decision until %s; Ctrl-C stops waiting and leaves the request pending\n", formatTime(r.ExpiresAt))
		decided, err := waitDecision(ctx, c, r.ID)
		if err != nil {
			return err
		}
		r = *decided
	}
	if out.json() {
		if err := printJSON(g.stdout, r); err != nil {
			return err
		}
	} else {
		printOutcome(g.stdout, &r)
	}
	if r.State != "approved" {
		return exitStatus(exitFail)
	}
	return nil
}

// waitDecision long-polls the wait endpoint until the request is decided.
func waitDecision(ctx context.Context, c *client, id int64) (*web.RequestView, error) {
	path := requestPath(strconv.FormatInt(id, 10)) + "/wait"
	query := url.Values{"timeout": {waitPoll.String()}}
	for {
		pollCtx, cancel := context.WithTimeout(ctx, waitPoll+callTimeout)
		var w web.WaitView
		err := c.do(pollCtx, "GET", path, query, nil, &w)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("stopped waiting; request %d is still pending (jitgate cancel %d withdraws it)", id, id)
			}
			return nil, err
		}
		if w.Decided {
			return &w.Request, nil
		}
	}
}

func printSubmitted(w io.Writer, r *web.RequestView) {
	switch {
	case r.Grant != nil:
		fmt.Fprintf(w, "request %d granted at once (break-glass): grant %d until %s; it needs a review by %s\n",
			r.ID, r.Grant.ID, formatTime(r.Grant.End), formatTime(r.Grant.ReviewDue))
	case r.Joined:
		fmt.Fprintf(w, "request %d was already pending for %s on %s; joined it: %s\n", r.ID, r.Principal, r.Target, r.URL)
	default:
		fmt.Fprintf(w, "request %d is pending approval under contract %s: %s\n", r.ID, r.Contract, r.URL)
	}
}

// printOutcome prints how a decided request ended, in one line.
func printOutcome(w io.Writer, r *web.RequestView) {
	switch r.State {
	case "approved":
		if r.Grant == nil {
			fmt.Fprintf(w, "request %d approved\n", r.ID)
			return
		}
		fmt.Fprintf(w, "request %d approved: grant %d for %s on %s until %s\n",
			r.ID, r.Grant.ID, r.Principal, r.Target, formatTime(r.Grant.End))
	case "denied":
		fmt.Fprintf(w, "request %d denied by %s%s\n", r.ID, r.Closer, comment(r.CloseReason))
	case "expired":
		fmt.Fprintf(w, "request %d expired at %s without a decision\n", r.ID, formatTime(r.ExpiresAt))
	case "cancelled":
		fmt.Fprintf(w, "request %d cancelled by %s%s\n", r.ID, r.Closer, comment(r.CloseReason))
	default:
		fmt.Fprintf(w, "request %d is %s\n", r.ID, r.State)
	}
}

func comment(text string) string {
	if text == "" {
		return ""
	}
	return ": " + text
}

func newRequestsCmd(g *globals) *cobra.Command {
	var states []string
	var mine bool
	var limit int
	var out output
	cmd := &cobra.Command{
		Use:   "requests [ID]",
		Short: "List access requests, or show one with its decisions",
		Long: `List the access requests you may see, newest first: your own, and all
requests under contracts you approve. With ID, show that request with its
decisions and grant.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return showRequest(cmd.Context(), g, c, args[0], out)
			}
			q := listQuery(states, mine, limit)
			var list web.ListView[web.RequestView]
			if err := c.get(cmd.Context(), "/requests", q, &list); err != nil {
				return err
			}
			if out.json() {
				return printJSON(g.stdout, list.Items)
			}
			return printRequests(g.stdout, list.Items)
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: pending, approved, denied, expired, cancelled")
	cmd.Flags().BoolVar(&mine, "mine", false, "only your own requests")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (server default 100, maximum 1000)")
	addOutputFlag(cmd, &out)
	return cmd
}

func listQuery(states []string, mine bool, limit int) url.Values {
	q := url.Values{}
	for _, s := range states {
		q.Add("state", s)
	}
	if mine {
		q.Set("mine", "true")
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

func printRequests(w io.Writer, rs []web.RequestView) error {
	t := newTable(w, "ID", "STATE", "REQUESTER", "KIND", "TARGET", "PRINCIPAL", "DURATION", "CONTRACT", "CREATED", "REASON")
	for _, r := range rs {
		t.row(strconv.FormatInt(r.ID, 10), r.State, r.Requester, r.Kind, r.Target, r.Principal,
			r.Duration.Std().String(), r.Contract, formatTime(r.CreatedAt), orDash(truncate(r.Reason, 40)))
	}
	return t.flush()
}

func showRequest(ctx context.Context, g *globals, c *client, id string, out output) error {
	var r web.RequestView
	if err := c.get(ctx, requestPath(id), nil, &r); err != nil {
		return err
	}
	if out.json() {
		return printJSON(g.stdout, r)
	}
	t := newTable(g.stdout, "FIELD", "VALUE")
	t.row("id", strconv.FormatInt(r.ID, 10))
	t.row("state", r.State)
	t.row("requester", r.Requester)
	t.row("access", fmt.Sprintf("%s %s on %s", r.Kind, r.Principal, r.Target))
	t.row("duration", r.Duration.Std().String())
	t.row("trigger", orDash(r.Trigger))
	t.row("reason", orDash(r.Reason))
	t.row("ticket", orDash(r.Ticket))
	t.row("contract", fmt.Sprintf("%s v%d (%s)", r.Contract, r.ContractVersion, truncate(r.ContractHash, 15)))
	t.row("created", formatTime(r.CreatedAt))
	t.row("expires", formatTime(r.ExpiresAt))
	t.row("decided", formatTime(r.DecidedAt))
	if r.Closer != "" {
		t.row("closed by", r.Closer+comment(r.CloseReason))
	}
	if r.Grant != nil {
		t.row("grant", fmt.Sprintf("%d, %s, %s to %s", r.Grant.ID, r.Grant.State, formatTime(r.Grant.Start), formatTime(r.Grant.End)))
	}
	t.row("url", r.URL)
	if err := t.flush(); err != nil {
		return err
	}
	if len(r.Decisions) == 0 {
		return nil
	}
	fmt.Fprintln(g.stdout)
	d := newTable(g.stdout, "APPROVER", "VERDICT", "STAGE", "AT", "MAX DURATION", "COMMENT")
	for _, v := range r.Decisions {
		maxDur := "-"
		if v.MaxDuration > 0 {
			maxDur = v.MaxDuration.Std().String()
		}
		d.row(v.Approver, v.Verdict, strconv.Itoa(v.Stage), formatTime(v.At), maxDur, orDash(v.Comment))
	}
	return d.flush()
}

func newCancelCmd(g *globals) *cobra.Command {
	var reason string
	var out output
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Withdraw your pending access request",
		Args:  exactArgs(1, "one request ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var r web.RequestView
			if err := c.post(cmd.Context(), requestPath(args[0])+"/cancel", web.ReasonBody{Reason: reason}, &r); err != nil {
				return err
			}
			if out.json() {
				return printJSON(g.stdout, r)
			}
			fmt.Fprintf(g.stdout, "request %d cancelled\n", r.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the audit log")
	addOutputFlag(cmd, &out)
	return cmd
}
