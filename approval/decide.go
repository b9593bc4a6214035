package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

// Vote is one approver's decision on a request.
type Vote struct {
	RequestID int64
	Approver  string
	Approve   bool
	Comment   string
	// MaxDuration narrows the window; 0 leaves it as asked. Approvers may
	// only narrow: a longer value changes nothing.
	MaxDuration time.Duration
}

// Decided is the state after a vote.
type Decided struct {
	Request *store.Request
	// Grant is set when this vote completed the last stage.
	Grant *store.Grant
}

// Decide records a vote. One deny ends the request. An approval counts
// toward the open stage's quorum of distinct people; the last stage's
// quorum creates the grant.
func (e *Engine) Decide(ctx context.Context, v Vote) (*Decided, error) {
	var out Decided
	var expired bool
	err := e.update(ctx, func(tx store.Tx) error {
		out, expired = Decided{}, false
		r, err := tx.Request(ctx, v.RequestID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(ErrNotFound, "request %d does not exist", v.RequestID)
		}
		if err != nil {
			return err
		}
		out.Request = r
		now := e.clock.Now()
		if r.State == store.RequestPending && !now.Before(r.ExpiresAt) {
			expired = true
			return e.expireLocked(ctx, tx, r)
		}
		if r.State != store.RequestPending {
			return refuse(ErrNotPending, "request %d is %s, not pending", r.ID, r.State)
		}
		c := e.contract(r.ContractID)
		if c == nil {
			return refuse(ErrNotFound, "request %d names contract %s, which is no longer configured", r.ID, r.ContractID)
		}
		if err := e.checkApprover(ctx, tx, c, r, v.Approver); err != nil {
			return err
		}
		d := &store.Decision{
			RequestID: r.ID, Approver: v.Approver, Stage: r.Stage, Comment: v.Comment,
			MaxDuration: v.MaxDuration, At: now, Verdict: store.VerdictApprove,
		}
		if !v.Approve {
			d.Verdict = store.VerdictDeny
		}
		if err := tx.AddDecision(ctx, d); err != nil {
			return err
		}
		if err := e.record(ctx, tx, audit.RequestDecision, v.Approver, r, nil, map[string]any{
			"verdict": d.Verdict, "stage": d.Stage, "comment": d.Comment, "max_duration": d.MaxDuration.String(),
		}); err != nil {
			return err
		}
		if !v.Approve {
			return e.denyLocked(ctx, tx, r, v, now)
		}
		return e.advanceLocked(ctx, tx, c, r, v, &out, now)
	})
	if expired {
		return nil, refuse(ErrNotPending, "request %d expired at %s before a decision", v.RequestID, out.Request.ExpiresAt.Format(time.RFC3339))
	}
	if err != nil {
		return nil, err
	}
	if out.Grant != nil {
		e.disarm(timerKey{"request", out.Request.ID})
		e.armGrant(out.Grant)
		e.log.Info("grant created", "request", out.Request.ID, "grant", out.Grant.ID,
			"requester", out.Grant.Requester, "end", out.Grant.End)
	}
	if out.Request.State == store.RequestDenied {
		e.disarm(timerKey{"request", out.Request.ID})
	}
	return &out, nil
}

// checkApprover refuses a vote from someone outside the open stage's
// approvers, from the requester unless the contract allows self-approval,
// and a second vote from the same person on the same request.
func (e *Engine) checkApprover(ctx context.Context, tx store.Tx, c *configs.Contract, r *store.Request, who string) error {
	stages := c.Stages()
	stage := stages[r.Stage]
	groups, _ := e.dir.Groups(who)
	if who == r.Requester && c.Approval.SelfApproval != "allowed" {
		return refuse(ErrSelfApproval, "%s cannot approve or deny their own request %d: contract %s forbids self-approval",
			who, r.ID, c.ID)
	}
	if !stage.Approvers.Contains(who, groups) {
		name := stage.Name
		if name == "" {
			name = "approval"
		}
		return refuse(ErrNotApprover, "%s is not an approver for the %s stage of request %d under contract %s",
			who, name, r.ID, c.ID)
	}
	prior, err := tx.Decisions(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, d := range prior {
		if d.Approver == who {
			return refuse(ErrAlreadyVoted, "%s already decided on request %d", who, r.ID)
		}
	}
	return nil
}

func (e *Engine) denyLocked(ctx context.Context, tx store.Tx, r *store.Request, v Vote, now time.Time) error {
	r.State, r.DecidedAt, r.Closer, r.CloseReason = store.RequestDenied, now, v.Approver, v.Comment
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	if err := e.record(ctx, tx, audit.RequestDenied, v.Approver, r, nil, map[string]any{"comment": v.Comment}); err != nil {
		return err
	}
	return e.notify(ctx, tx, Notice{Event: "request.denied", Actor: v.Approver, Comment: v.Comment, Request: r})
}

// advanceLocked moves to the next stage when the open one has its quorum,
// and grants after the last stage.
func (e *Engine) advanceLocked(ctx context.Context, tx store.Tx, c *configs.Contract, r *store.Request, v Vote, out *Decided, now time.Time) error {
	decisions, err := tx.Decisions(ctx, r.ID)
	if err != nil {
		return err
	}
	stages := c.Stages()
	approvers := map[string]bool{}
	for _, d := range decisions {
		if d.Stage == r.Stage && d.Verdict == store.VerdictApprove {
			approvers[d.Approver] = true
		}
	}
	if len(approvers) < stages[r.Stage].Quorum {
		return nil
	}
	if r.Stage+1 < len(stages) {
		r.Stage++
		return tx.UpdateRequest(ctx, r)
	}
	g := &store.Grant{
		RequestID: r.ID, State: store.GrantActive, Requester: r.Requester,
		Kind: r.Kind, Target: r.Target, Principal: r.Principal,
		Start: now, End: now.Add(grantedDuration(c, r, decisions, now)),
		MaxSessions: c.Window.MaxSessions, ContractID: r.ContractID,
		ContractVersion: r.ContractVersion, ContractHash: r.ContractHash,
	}
	if err := tx.CreateGrant(ctx, g); err != nil {
		return err
	}
	r.State, r.DecidedAt = store.RequestApproved, now
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	out.Grant = g
	if err := e.record(ctx, tx, audit.RequestApproved, v.Approver, r, nil, nil); err != nil {
		return err
	}
	if err := e.record(ctx, tx, audit.GrantCreated, v.Approver, r, g, grantDetails(g)); err != nil {
		return err
	}
	// The notice names the approver whose vote completed the quorum.
	return e.notify(ctx, tx, Notice{Event: "request.approved", Actor: v.Approver, Comment: v.Comment, Request: r, Grant: g})
}

func grantDetails(g *store.Grant) map[string]any {
	return map[string]any{
		"start": g.Start, "end": g.End, "target": g.Target, "principal": g.Principal,
		"contract": g.ContractID, "contract_hash": g.ContractHash, "break_glass": g.BreakGlass,
	}
}

// grantedDuration is the smallest of what was asked, every approver's cap,
// the contract maximum, the time left before the contract ends, and the
// time left in the current permitted hours.
func grantedDuration(c *configs.Contract, r *store.Request, ds []*store.Decision, now time.Time) time.Duration {
	d := minDuration(r.Duration, c.Window.Max.Std(), c.NotAfter().Sub(now))
	for _, dec := range ds {
		if dec.Verdict == store.VerdictApprove && dec.MaxDuration > 0 {
			d = minDuration(d, dec.MaxDuration)
		}
	}
	if h := c.Window.Hours; h != nil {
		if end, ok := periodEnd(h, now); ok {
			d = minDuration(d, end.Sub(now))
		}
	}
	return max(d, 0)
}

// periodEnd returns the end of the permitted period that contains t.
func periodEnd(h *configs.Hours, t time.Time) (time.Time, bool) {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return time.Time{}, false
	}
	var hh, mm int
	if _, err := fmt.Sscanf(h.To, "%d:%d", &hh, &mm); err != nil {
		return time.Time{}, false
	}
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), hh, mm, 0, 0, loc), true
}

func (e *Engine) breakGlass(ctx context.Context, c *configs.Contract, ask Ask, now time.Time) (*Submitted, error) {
	bg := c.BreakGlass
	groups, _ := e.dir.Groups(ask.Requester)
	if bg == nil || !bg.Requesters.Contains(ask.Requester, groups) {
		return nil, refuse(ErrNotEligible, "%s may not use break-glass under contract %s", ask.Requester, c.ID)
	}
	var out Submitted
	err := e.update(ctx, func(tx store.Tx) error {
		r := newRequest(c, ask, now)
		r.BreakGlass = true
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		d := minDuration(r.Duration, bg.MaxWindow.Std(), c.NotAfter().Sub(now))
		g := &store.Grant{
			RequestID: r.ID, State: store.GrantActive, Requester: r.Requester,
			Kind: r.Kind, Target: r.Target, Principal: r.Principal,
			Start: now, End: now.Add(d), MaxSessions: c.Window.MaxSessions,
			ContractID: c.ID, ContractVersion: c.Version, ContractHash: r.ContractHash,
			BreakGlass: true, ReviewDue: now.Add(bg.ReviewWithin.Std()),
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		r.State, r.DecidedAt = store.RequestApproved, now
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = Submitted{Request: r, Grant: g}
		if err := e.record(ctx, tx, audit.RequestCreated, ask.Requester, r, nil, requestDetails(r)); err != nil {
			return err
		}
		if err := e.record(ctx, tx, audit.GrantCreated, ask.Requester, r, g, grantDetails(g)); err != nil {
			return err
		}
		return e.notify(ctx, tx, Notice{Event: "request.approved", Actor: ask.Requester, Request: r, Grant: g})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: break-glass grant: %w", err)
	}
	e.armGrant(out.Grant)
	e.log.Warn("break-glass grant", "request", out.Request.ID, "grant", out.Grant.ID,
		"requester", ask.Requester, "review_due", out.Grant.ReviewDue)
	return &out, nil
}
