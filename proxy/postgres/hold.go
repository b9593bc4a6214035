package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/store"
)

// expiryGrace is how long past a request's expiry the front door still
// waits for the engine to mark it expired, before it gives up by itself.
const expiryGrace = 5 * time.Second

// resolveTarget finds the target and, when the client named none, the
// only role the person's contracts allow on it.
func (c *clientConn) resolveTarget() error {
	c.target = c.srv.cfg.PGTarget(c.req.target)
	if c.target == nil {
		return reject(wire.CodeInvalidAuthorization, "jitgate: no Postgres target is named %q", c.req.target).
			withHint("Connect with dbname=TARGET, one of: %s.", strings.Join(c.targetNames(), ", "))
	}
	if c.req.role != "" {
		return nil
	}
	roles := c.eligibleRoles()
	switch len(roles) {
	case 0:
		return reject(wire.CodeInvalidAuthorization, "jitgate: no contract lets %s request a role on %s", c.person.Name, c.target.Name)
	case 1:
		c.req.role = roles[0]
		return nil
	}
	return reject(wire.CodeInvalidAuthorization, "jitgate: choose a role on %s, one of: %s", c.target.Name, strings.Join(roles, ", ")).
		withHint("Connect with dbname=%s@%s, or options='-c jitgate.role=%s'.", c.target.Name, roles[0], roles[0])
}

func (c *clientConn) targetNames() []string {
	names := make([]string, 0, len(c.srv.cfg.Targets.Postgres))
	for _, t := range c.srv.cfg.Targets.Postgres {
		names = append(names, t.Name)
	}
	return names
}

// eligibleRoles lists the roles on the target that the contracts the
// person may request under cover, in config order.
func (c *clientConn) eligibleRoles() []string {
	var roles []string
	for i := range c.srv.cfg.Contracts {
		ct := &c.srv.cfg.Contracts[i]
		if c.req.contract != "" && ct.ID != c.req.contract {
			continue
		}
		may := ct.Requesters.Contains(c.person.Name, c.person.Groups)
		if c.req.breakGlass && ct.BreakGlass != nil {
			may = may || ct.BreakGlass.Requesters.Contains(c.person.Name, c.person.Groups)
		}
		if !may {
			continue
		}
		for _, entry := range ct.Scope {
			if entry.Target != c.target.Name {
				continue
			}
			for _, r := range entry.Roles {
				if !slices.Contains(roles, r) {
					roles = append(roles, r)
				}
			}
		}
	}
	return roles
}

// hold returns an active grant for the connection: an existing one, or
// one approved while the client waits.
func (c *clientConn) hold() (*store.Grant, error) {
	engine := c.srv.opts.Engine
	g, err := engine.Match(c.ctx, c.person.Name, approval.KindPostgres, c.target.Name, c.req.role)
	if err == nil {
		return g, nil
	}
	if !errors.Is(err, approval.ErrNoGrant) {
		return nil, err
	}

	sub, err := engine.Submit(c.ctx, approval.Ask{
		Requester: c.person.Name, Kind: approval.KindPostgres, Target: c.target.Name, Principal: c.req.role,
		Duration: c.req.duration, Trigger: c.req.trigger, Reason: c.req.reason, Ticket: c.req.ticket,
		ContractID: c.req.contract, BreakGlass: c.req.breakGlass,
	})
	if err != nil {
		return nil, withRequestHint(err)
	}
	if sub.Grant != nil {
		c.log.Info("break-glass grant issued", "request", sub.Request.ID, "grant", sub.Grant.ID)
		return sub.Grant, nil
	}
	return c.waitForDecision(sub)
}

// withRequestHint adds to a refused request how to set its fields from a
// Postgres client, because the engine's messages name the CLI flags.
func withRequestHint(err error) error {
	var pe *approval.PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, approval.ErrInvalid) {
		return err
	}
	ce := asClientError(err)
	ce.hint = "Set the request's fields with options='-c jitgate.reason=... -c jitgate.ticket=... -c jitgate.trigger=...' (a backslash before each space in a value)."
	return ce
}

// waitForDecision sends the client the approval page of its request and
// waits for the decision, the request's expiry, the client leaving or the
// connection being stopped.
func (c *clientConn) waitForDecision(sub *approval.Submitted) (*store.Grant, error) {
	r := sub.Request
	log := c.log.With("request", r.ID)
	verb := "is waiting for approval"
	if sub.Joined {
		verb = "was already open and is waiting for approval"
	}
	wait := r.ExpiresAt.Sub(c.srv.clock.Now()).Round(time.Second)
	notice := wire.Notice{
		Severity: "NOTICE", Code: "00000",
		Message: fmt.Sprintf("jitgate: access request %d %s: %s", r.ID, verb, c.requestURL(r.ID)),
		Detail: fmt.Sprintf("Role %s on %s under contract %s. This connection waits up to %s for the decision; press Ctrl-C to give up.",
			r.Principal, r.Target, r.ContractID, wait),
	}
	// The hold is registered before the client learns of the request, so a
	// cancel request sent right after the notice finds it.
	ctx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	done := c.srv.holds.add(c, r.ID, cancel)
	if err := c.out.send(wire.AppendNotice(nil, notice)); err != nil {
		done()
		return nil, err
	}
	log.Info("holding connection for approval", "joined", sub.Joined, "expires", r.ExpiresAt)

	timer := c.srv.clock.AfterFunc(r.ExpiresAt.Sub(c.srv.clock.Now())+expiryGrace, func() {
		cancel(fmt.Errorf("request %d: %w", r.ID, errHoldExpired))
	})
	defer timer.Stop()
	stopWatch := c.watchClientGone(cancel)
	decided, g, err := c.srv.opts.Engine.WaitDecision(ctx, r.ID)
	werr := stopWatch()
	last := done()
	if cause := context.Cause(ctx); errors.Is(cause, errGaveUp) || errors.Is(werr, errClientGone) {
		// The client gave up (Ctrl-C, or it closed the connection). When no
		// other connection waits on the request, it is withdrawn instead of
		// left for approvers to decide.
		if last && err != nil {
			c.withdraw(r.ID)
		}
		if werr != nil {
			return nil, werr
		}
		return nil, reject(wire.CodeQueryCanceled, "jitgate: stopped waiting for access request %d after a cancel request", r.ID)
	}
	if werr != nil {
		return nil, werr
	}
	if err != nil && errors.Is(context.Cause(ctx), errHoldExpired) {
		// The engine may have expired the request at the same moment; its
		// state gives the more precise message.
		decided, g, err = c.lastDecision(r.ID)
	}
	if err != nil {
		return nil, err
	}
	return c.decisionResult(decided, g)
}

// withdraw cancels request id on behalf of its requester, who gave up.
func (c *clientConn) withdraw(id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), expiryGrace)
	defer cancel()
	_, err := c.srv.opts.Engine.Cancel(ctx, id, c.person.Name, "the requester stopped waiting")
	if err != nil && !errors.Is(err, approval.ErrNotPending) && !errors.Is(err, approval.ErrNotRequester) {
		c.log.Error("withdrawing the abandoned access request failed", "request", id, "err", err)
		return
	}
	if err == nil {
		c.log.Info("access request withdrawn: the client stopped waiting", "request", id)
	}
}

// lastDecision reads the request's state once more after the hold timed
// out, waiting at most expiryGrace for a decision still being written.
func (c *clientConn) lastDecision(id int64) (*store.Request, *store.Grant, error) {
	ctx, cancel := context.WithTimeout(c.ctx, expiryGrace)
	defer cancel()
	decided, g, err := c.srv.opts.Engine.WaitDecision(ctx, id)
	if err != nil && ctx.Err() != nil && c.ctx.Err() == nil {
		return nil, nil, reject(wire.CodeInvalidAuthorization, "jitgate: access request %d was not decided in time", id)
	}
	return decided, g, err
}

var (
	errHoldExpired = errors.New("no decision before the request expired")
	errClientGone  = errors.New("client closed the connection while waiting for approval")
)

// decisionResult turns the decided request into the grant, or into the
// error sent to the client.
func (c *clientConn) decisionResult(r *store.Request, g *store.Grant) (*store.Grant, error) {
	c.log.Info("access request decided", "request", r.ID, "state", r.State, "by", r.Closer)
	switch r.State {
	case store.RequestApproved:
		if g == nil {
			return nil, fmt.Errorf("request %d is approved but has no grant", r.ID)
		}
		return g, nil
	case store.RequestDenied:
		return nil, reject(wire.CodeInvalidAuthorization, "jitgate: access request %d was denied%s", r.ID, byWhom(r))
	case store.RequestExpired:
		return nil, reject(wire.CodeInvalidAuthorization, "jitgate: access request %d expired without a decision%s", r.ID, reasonSuffix(r.CloseReason))
	case store.RequestCancelled:
		return nil, reject(wire.CodeInvalidAuthorization, "jitgate: access request %d was cancelled%s", r.ID, byWhom(r))
	}
	return nil, fmt.Errorf("request %d ended in unexpected state %q", r.ID, r.State)
}

func byWhom(r *store.Request) string {
	s := ""
	if r.Closer != "" {
		s = " by " + r.Closer
	}
	return s + reasonSuffix(r.CloseReason)
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func (c *clientConn) requestURL(id int64) string {
	return strings.TrimRight(c.srv.cfg.PublicURL, "/") + "/requests/" + strconv.FormatInt(id, 10)
}

// watchClientGone cancels the wait when the client closes its connection.
// A client that sends bytes early keeps them in the reader for the relay.
// The returned function stops the watch and returns errClientGone when the
// client left.
func (c *clientConn) watchClientGone(cancel context.CancelCauseFunc) func() error {
	done := make(chan error, 1)
	go func() {
		_, err := c.r.Peek(1)
		if err != nil && !isTimeout(err) {
			cancel(errClientGone)
		}
		done <- err
	}()
	return func() error {
		// A read deadline in the past ends the Peek; the timeout is not
		// sticky on bufio, net or tls connections.
		c.conn.SetReadDeadline(time.Now())
		err := <-done
		c.conn.SetReadDeadline(time.Time{})
		if err != nil && !isTimeout(err) {
			return errClientGone
		}
		return nil
	}
}
