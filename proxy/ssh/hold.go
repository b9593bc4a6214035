package sshproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

// errInterrupted is the cause of a hold the person stopped with Ctrl-C.
var errInterrupted = errors.New("stopped by the person")

// holdIO is the hold's display for the person: the first session channel
// that needed the target. A forward-only connection holds without one.
type holdIO interface {
	// notice shows one line to the person.
	notice(line string)
	// hasTerminal reports whether the person has a terminal to type at.
	hasTerminal() bool
	// prompt shows question and returns the line typed; only with a terminal.
	prompt(ctx context.Context, question string) (string, error)
	// interrupted is closed when the person presses Ctrl-C while waiting.
	interrupted() <-chan struct{}
}

// requestAccess opens an access request (or joins the pending one) and
// waits for its decision. It returns the grant, or a rejection that gives
// the reason there is none.
func (c *conn) requestAccess(h holdIO, d requestDetails) (*store.Grant, error) {
	if len(d.invalid) > 0 {
		return nil, reject(approval.ErrInvalid, "%s", strings.Join(d.invalid, "; "))
	}
	if h != nil && h.hasTerminal() {
		if err := c.promptDetails(h, &d); err != nil {
			return nil, err
		}
	}
	// Holding starts before the request opens and before the hold shows
	// the Ctrl-C line. So no key typed from here on reaches the target,
	// on any session channel, and a Ctrl-C after that line stops the wait.
	c.setHolding(true)
	defer c.setHolding(false)
	if h != nil {
		select {
		case <-h.interrupted():
			return nil, reject(errInterrupted, "stopped with Ctrl-C; no access request was opened")
		default:
		}
	}
	sub, err := c.srv.opts.Engine.Submit(c.ctx, approval.Ask{
		Requester: c.person, Kind: approval.KindSSH, Target: c.route.target, Principal: c.route.login,
		Duration: d.duration, Trigger: d.trigger, Reason: d.reason, Ticket: d.ticket,
		ContractID: d.contract, BreakGlass: d.breakGlass,
	})
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, errTerminated
		}
		r := c.policyRejection(err)
		if errors.Is(err, approval.ErrInvalid) {
			r.msg += "\n" + detailsHint
		}
		return nil, r
	}
	r := sub.Request
	log := c.logger().With("request", r.ID)
	if sub.Grant != nil {
		log.Warn("break-glass grant", "grant", sub.Grant.ID)
		c.setHolding(false) // keys typed after the next line are kept
		notify(h, fmt.Sprintf("jitgate: break-glass grant %d for %s ends at %s; it will be reviewed",
			sub.Grant.ID, describeRoute(c.route), formatTime(sub.Grant.End)))
		return sub.Grant, nil
	}
	c.showHold(h, r, sub.Joined)
	log.Info("holding for approval", "joined", sub.Joined, "expires", r.ExpiresAt)
	return c.waitDecision(h, r)
}

// showHold shows which request waits and where to approve it.
func (c *conn) showHold(h holdIO, r *store.Request, joined bool) {
	state := "is waiting for approval"
	if joined {
		state = "was already waiting for approval"
	}
	notify(h, fmt.Sprintf("jitgate: access request %d for %s %s", r.ID, describeRoute(c.route), state))
	if url := c.srv.opts.Config.PublicURL; url != "" {
		notify(h, "jitgate: approve or deny it at "+strings.TrimRight(url, "/")+"/requests/"+strconv.FormatInt(r.ID, 10))
	}
	notify(h, fmt.Sprintf("jitgate: waiting until %s; press Ctrl-C to stop waiting", formatTime(r.ExpiresAt)))
}

// waitDecision blocks until request r is decided, the person stops
// waiting, or the connection ends. Its own deadline is the request's
// expiry plus holdSlack, a bound in case the engine's expiry never fires.
func (c *conn) waitDecision(h holdIO, r *store.Request) (*store.Grant, error) {
	limit := max(r.ExpiresAt.Sub(c.srv.opts.Clock.Now()), 0) + holdSlack
	ctx, cancel := context.WithTimeoutCause(c.ctx, limit, context.DeadlineExceeded)
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if h != nil {
		go func() {
			select {
			case <-h.interrupted():
				stop(errInterrupted)
			case <-ctx.Done():
			}
		}()
	}

	decided, g, err := c.srv.opts.Engine.WaitDecision(ctx, r.ID)
	switch {
	case c.ctx.Err() != nil:
		return nil, errTerminated
	case errors.Is(context.Cause(ctx), errInterrupted):
		return nil, reject(errInterrupted, "stopped waiting; access request %d stays open until %s, and connecting again after approval uses it",
			r.ID, formatTime(r.ExpiresAt))
	case err != nil && ctx.Err() != nil:
		return nil, reject(err, "access request %d got no decision in time; connect again to ask again", r.ID)
	case err != nil:
		return nil, c.policyRejection(err)
	}
	return c.decision(h, decided, g)
}

// decision turns a decided request into the grant or a rejection.
func (c *conn) decision(h holdIO, r *store.Request, g *store.Grant) (*store.Grant, error) {
	switch r.State {
	case store.RequestApproved:
		if g == nil {
			return nil, reject(approval.ErrNoGrant, "access request %d was approved but has no grant; ask an approver", r.ID)
		}
		by := ""
		if approvers := c.approvers(r.ID); len(approvers) > 0 {
			by = " by " + strings.Join(approvers, ", ")
		}
		c.setHolding(false) // keys typed after the next line are kept
		notify(h, fmt.Sprintf("jitgate: access request %d approved%s; grant %d ends at %s", r.ID, by, g.ID, formatTime(g.End)))
		return g, nil
	case store.RequestDenied:
		msg := fmt.Sprintf("access request %d was denied", r.ID)
		if r.Closer != "" {
			msg += " by " + r.Closer
		}
		if r.CloseReason != "" {
			msg += ": " + r.CloseReason
		}
		return nil, reject(approval.ErrNotPending, "%s", msg)
	case store.RequestExpired:
		return nil, reject(approval.ErrNotPending, "access request %d expired at %s without a decision; connect again to ask again",
			r.ID, formatTime(r.ExpiresAt))
	case store.RequestCancelled:
		return nil, reject(approval.ErrNotPending, "access request %d was cancelled by %s", r.ID, r.Closer)
	default:
		return nil, reject(approval.ErrNotPending, "access request %d is %s", r.ID, r.State)
	}
}

// approvers returns who approved request id, in decision order. A failed
// read only costs the names, so it is logged and not returned.
func (c *conn) approvers(id int64) []string {
	ds, err := c.srv.opts.Engine.Store().Decisions(c.ctx, id)
	if err != nil {
		c.logger().Warn("reading the approvers failed", "request", id, "err", err)
		return nil
	}
	var names []string
	for _, d := range ds {
		if d.Verdict == store.VerdictApprove && !slices.Contains(names, d.Approver) {
			names = append(names, d.Approver)
		}
	}
	return names
}

// promptDetails prompts on the terminal for the details the client did
// not send: always a reason (Enter skips it unless a contract requires
// it), and a ticket or trigger when a contract covering the route
// requires one.
func (c *conn) promptDetails(h holdIO, d *requestDetails) error {
	rules := c.coveringRules(d.contract)
	questions := []struct {
		value    *string
		question string
		ask      bool
	}{
		{&d.reason, reasonQuestion(rules.reasonRequired), true},
		{&d.ticket, ticketQuestion(rules.ticketPattern), rules.ticketRequired},
		{&d.trigger, "Trigger (one of " + strings.Join(rules.triggers, ", ") + "): ", len(rules.triggers) > 0},
	}
	for _, q := range questions {
		if !q.ask || *q.value != "" {
			continue
		}
		answer, err := h.prompt(c.ctx, q.question)
		if err != nil {
			if c.ctx.Err() != nil {
				return errTerminated
			}
			return reject(err, "no access request was opened")
		}
		*q.value = strings.TrimSpace(answer)
	}
	return nil
}

// requestRules merges the request rules of the contracts that cover a
// route, which decide the prompts. The engine still applies the rules of
// the contract it picks.
type requestRules struct {
	reasonRequired bool
	ticketRequired bool
	ticketPattern  string
	triggers       []string
}

func (c *conn) coveringRules(contractID string) requestRules {
	var rules requestRules
	for i := range c.srv.opts.Config.Contracts {
		ct := &c.srv.opts.Config.Contracts[i]
		if (contractID != "" && ct.ID != contractID) || !ct.CoversSSH(c.route.target, c.route.login) {
			continue
		}
		rules.add(ct)
	}
	return rules
}

func (r *requestRules) add(ct *configs.Contract) {
	r.reasonRequired = r.reasonRequired || ct.Request.ReasonRequired || ct.Request.ReasonMinLength > 0
	r.ticketRequired = r.ticketRequired || ct.Request.TicketRequired
	if r.ticketPattern == "" {
		r.ticketPattern = ct.Request.TicketPattern
	}
	for _, t := range ct.Triggers {
		if !slices.Contains(r.triggers, t) {
			r.triggers = append(r.triggers, t)
		}
	}
}

func reasonQuestion(required bool) string {
	if required {
		return "Reason for access (shown to approvers): "
	}
	return "Reason for access (shown to approvers; Enter to skip): "
}

func ticketQuestion(pattern string) string {
	if pattern == "" {
		return "Ticket: "
	}
	return "Ticket (matching " + pattern + "): "
}

// notify shows line through h when there is one.
func notify(h holdIO, line string) {
	if h != nil {
		h.notice(line)
	}
}

func describeRoute(r route) string {
	return "login " + r.login + " on " + r.target
}

// formatTime writes t in UTC to the second, the form used in every
// message, so people in different zones read the same time.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
