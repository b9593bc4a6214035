package approval

import (
	"context"
	"errors"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/store"
)

// Cancel withdraws a pending request. Only the requester may cancel.
func (e *Engine) Cancel(ctx context.Context, requestID int64, actor, reason string) (*store.Request, error) {
	var out *store.Request
	err := e.update(ctx, func(tx store.Tx) error {
		r, err := e.pendingRequest(ctx, tx, requestID)
		if err != nil {
			return err
		}
		if r.Requester != actor {
			return refuse(ErrNotRequester, "only %s, who opened request %d, can cancel it", r.Requester, r.ID)
		}
		r.State, r.DecidedAt, r.Closer, r.CloseReason = store.RequestCancelled, e.clock.Now(), actor, reason
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		return e.record(ctx, tx, audit.RequestCancelled, actor, r, nil, map[string]any{"reason": reason})
	})
	if err != nil {
		return nil, err
	}
	e.disarm(timerKey{"request", requestID})
	return out, nil
}

func (e *Engine) pendingRequest(ctx context.Context, tx store.Tx, id int64) (*store.Request, error) {
	r, err := tx.Request(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(ErrNotFound, "request %d does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	if r.State != store.RequestPending {
		return nil, refuse(ErrNotPending, "request %d is %s, not pending", r.ID, r.State)
	}
	return r, nil
}

func (e *Engine) activeGrant(ctx context.Context, tx store.Tx, id int64) (*store.Grant, error) {
	g, err := tx.Grant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(ErrNotFound, "grant %d does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	if g.State != store.GrantActive || !e.clock.Now().Before(g.End) {
		return nil, refuse(ErrNotActive, "grant %d is %s, not active", g.ID, g.State)
	}
	return g, nil
}

// mayManage reports whether actor approves for the grant's contract at any
// stage; such people may revoke and extend.
func (e *Engine) mayManage(actor string, contractID string) bool {
	c := e.contract(contractID)
	if c == nil {
		return false
	}
	groups, _ := e.dir.Groups(actor)
	for _, s := range c.Stages() {
		if s.Approvers.Contains(actor, groups) {
			return true
		}
	}
	return false
}

// Revoke ends a grant at once. The grantee and the contract's approvers may
// revoke; live sessions see the change through WaitGrant.
func (e *Engine) Revoke(ctx context.Context, grantID int64, actor, reason string) (*store.Grant, error) {
	var out *store.Grant
	err := e.update(ctx, func(tx store.Tx) error {
		g, err := e.activeGrant(ctx, tx, grantID)
		if err != nil {
			return err
		}
		if actor != g.Requester && !e.mayManage(actor, g.ContractID) {
			return refuse(ErrNotApprover, "%s is not an approver under contract %s and cannot revoke grant %d",
				actor, g.ContractID, g.ID)
		}
		g.State, g.ClosedAt, g.Closer, g.CloseReason = store.GrantRevoked, e.clock.Now(), actor, reason
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
		out = g
		if err := e.record(ctx, tx, audit.GrantRevoked, actor, nil, g, map[string]any{"reason": reason}); err != nil {
			return err
		}
		return e.notify(ctx, tx, Notice{Event: "grant.revoked", Actor: actor, Comment: reason, Grant: g})
	})
	if err != nil {
		return nil, err
	}
	e.disarm(timerKey{"grant", grantID})
	e.log.Info("grant revoked", "grant", grantID, "actor", actor)
	return out, nil
}

// Extend moves a grant's end later, within the contract's extension caps
// and never past the contract's end. The contract's approvers extend; the
// requester may only when self-approval is allowed.
func (e *Engine) Extend(ctx context.Context, grantID int64, actor string, by time.Duration, reason string) (*store.Grant, error) {
	var out *store.Grant
	err := e.update(ctx, func(tx store.Tx) error {
		g, err := e.activeGrant(ctx, tx, grantID)
		if err != nil {
			return err
		}
		c := e.contract(g.ContractID)
		if c == nil {
			return refuse(ErrNotFound, "grant %d names contract %s, which is no longer configured", g.ID, g.ContractID)
		}
		if actor == g.Requester && c.Approval.SelfApproval != "allowed" {
			return refuse(ErrSelfApproval, "%s cannot extend their own grant %d: contract %s forbids self-approval", actor, g.ID, c.ID)
		}
		if !e.mayManage(actor, c.ID) {
			return refuse(ErrNotApprover, "%s is not an approver under contract %s and cannot extend grant %d", actor, c.ID, g.ID)
		}
		x := c.Window.Extensions
		switch {
		case by <= 0:
			return refuse(ErrInvalid, "extension %s must be positive", by)
		case x == nil || x.MaxCount == 0:
			return refuse(ErrExtensionCap, "contract %s allows no extensions", c.ID)
		case g.Extensions >= x.MaxCount:
			return refuse(ErrExtensionCap, "grant %d already has %d extensions, the most contract %s allows", g.ID, g.Extensions, c.ID)
		case x.MaxEach > 0 && by > x.MaxEach.Std():
			return refuse(ErrExtensionCap, "extension %s exceeds the %s per extension that contract %s allows", by, x.MaxEach.Std(), c.ID)
		case x.MaxTotal > 0 && g.Extended+by > x.MaxTotal.Std():
			return refuse(ErrExtensionCap, "extension %s would bring grant %d to %s of extensions, over the %s total that contract %s allows",
				by, g.ID, g.Extended+by, x.MaxTotal.Std(), c.ID)
		}
		end := g.End.Add(by)
		if end.After(c.NotAfter()) {
			end = c.NotAfter()
		}
		// An extension never carries access past the end of the permitted
		// hours the grant is in.
		if h := c.Window.Hours; h != nil {
			if limit, ok := periodEnd(h, g.End.Add(-time.Nanosecond)); ok && end.After(limit) {
				end = limit
			}
		}
		if !end.After(g.End) {
			return refuse(ErrOutsideHours, "grant %d already ends at the end of the hours contract %s permits; request access again later", g.ID, c.ID)
		}
		g.Extended += end.Sub(g.End)
		g.Extensions++
		g.End = end
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
		out = g
		return e.record(ctx, tx, audit.GrantExtended, actor, nil, g, map[string]any{
			"by": by.String(), "end": g.End, "reason": reason, "extensions": g.Extensions,
		})
	})
	if err != nil {
		return nil, err
	}
	e.armGrant(out)
	return out, nil
}

// Review records the post-review of a break-glass grant.
func (e *Engine) Review(ctx context.Context, grantID int64, reviewer, comment string) (*store.Grant, error) {
	var out *store.Grant
	err := e.update(ctx, func(tx store.Tx) error {
		g, err := tx.Grant(ctx, grantID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(ErrNotFound, "grant %d does not exist", grantID)
		}
		if err != nil {
			return err
		}
		c := e.contract(g.ContractID)
		switch {
		case !g.BreakGlass:
			return refuse(ErrInvalid, "grant %d is not a break-glass grant; only those need a review", g.ID)
		case !g.ReviewedAt.IsZero():
			return refuse(ErrAlreadyVoted, "grant %d was already reviewed by %s", g.ID, g.ReviewedBy)
		case reviewer == g.Requester:
			return refuse(ErrSelfApproval, "%s cannot review their own break-glass grant %d", reviewer, g.ID)
		case c == nil || c.BreakGlass == nil:
			return refuse(ErrNotFound, "grant %d names contract %s, which has no break-glass terms now", g.ID, g.ContractID)
		}
		groups, _ := e.dir.Groups(reviewer)
		if !c.BreakGlass.Reviewers.Contains(reviewer, groups) {
			return refuse(ErrNotApprover, "%s is not a break-glass reviewer under contract %s", reviewer, c.ID)
		}
		now := e.clock.Now()
		g.ReviewedBy, g.ReviewedAt = reviewer, now
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
		out = g
		return e.record(ctx, tx, audit.GrantReviewed, reviewer, nil, g, map[string]any{
			"comment": comment, "late": now.After(g.ReviewDue),
		})
	})
	return out, err
}

// Match returns the active grant that lets person use principal on target
// now, or ErrNoGrant; ErrSessionCap when every matching grant is at its
// session cap. Front doors call it for each new connection.
func (e *Engine) Match(ctx context.Context, person, kind, target, principal string) (*store.Grant, error) {
	now := e.clock.Now()
	gs, err := e.store.Grants(ctx, store.GrantFilter{
		States: []store.GrantState{store.GrantActive}, Requester: person,
		Kind: kind, Target: target, Principal: principal, ActiveAt: now,
	})
	if err != nil {
		return nil, err
	}
	capped := false
	for _, g := range gs {
		if g.MaxSessions <= 0 {
			return g, nil
		}
		open, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID, States: []store.SessionState{store.SessionOpen}})
		if err != nil {
			return nil, err
		}
		if len(open) < g.MaxSessions {
			return g, nil
		}
		capped = true
	}
	if capped {
		return nil, refuse(ErrSessionCap, "%s already has the maximum number of sessions the grant allows on %s", person, target)
	}
	return nil, refuse(ErrNoGrant, "%s has no active grant for %s on %s", person, principal, target)
}
