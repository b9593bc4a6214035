package sshproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// errTerminated reports that the connection is ending. Terminate shows the
// client the reason, so the caller shows nothing more.
var errTerminated = errors.New("connection is ending")

// rejection is a decision shown to the person as a line on the terminal
// and exit status 1. Policy decisions and details the person can fix are
// rejections, but failures of jitgate or the target are not.
type rejection struct {
	msg   string
	cause error
}

func (r *rejection) Error() string { return r.msg }

func (r *rejection) Unwrap() error { return r.cause }

// LogValue makes a logged rejection show its cause too, which may name
// things the person is not shown, such as host key fingerprints.
func (r *rejection) LogValue() slog.Value {
	if r.cause == nil {
		return slog.StringValue(r.msg)
	}
	return slog.GroupValue(slog.String("msg", r.msg), slog.String("cause", r.cause.Error()))
}

func reject(cause error, format string, args ...any) *rejection {
	return &rejection{msg: "jitgate: " + fmt.Sprintf(format, args...), cause: cause}
}

// gate is the connection's way to the target. The first channel or
// request that needs the target passes it: match a grant or hold for
// approval, open the live session, mint a certificate and connect. Every
// later caller gets the same result.
//
// A session channel claims the gate when it opens, before its run request
// arrives, so the hold shows on that channel and channels opened meanwhile
// wait for the result instead of starting a silent hold of their own.
type gate struct {
	// mu guards the three fields below.
	mu      sync.Mutex
	claimed bool
	started bool
	waiters int // callers waiting for a claimer that has not started
	// taken is closed the first time the gate is claimed or started.
	taken     chan struct{}
	takenOnce sync.Once
	// done is closed once up or err is set.
	done chan struct{}
	up   *upstream
	err  error
}

// claimGate reserves the gate for the calling session channel; it returns
// false when another caller has it.
func (c *conn) claimGate() bool {
	c.gate.mu.Lock()
	defer c.gate.mu.Unlock()
	if c.gate.claimed || c.gate.started {
		return false
	}
	c.gate.claimed = true
	c.gate.takenOnce.Do(func() { close(c.gate.taken) })
	return true
}

// waitForClaim waits up to claimWait for a session channel to claim the
// gate. OpenSSH sends its remote forwarding requests just before it opens
// the session channel, and the hold should show on that channel rather
// than pass silently for the forward.
func (c *conn) waitForClaim() {
	timer := time.NewTimer(claimWait)
	defer timer.Stop()
	select {
	case <-c.gate.taken:
	case <-timer.C:
	case <-c.ctx.Done():
	}
}

// passGate returns the upstream connection. The caller that starts the
// gate opens it: the claimer, or any caller when the gate is unclaimed.
// h shows the hold to the person and may be nil, and d carries the
// request details. When this caller opened the connection, first runs
// before the waiting callers are released, so the channel that started
// the gate gets its session slot on the target before the channels that
// waited. The error is a *rejection, or errTerminated when the connection
// ends.
func (c *conn) passGate(ctx context.Context, h holdIO, d requestDetails, claimer bool, first func(*upstream)) (*upstream, error) {
	c.gate.mu.Lock()
	starts := !c.gate.started && (claimer || !c.gate.claimed)
	if starts {
		c.gate.started = true
		c.gate.takenOnce.Do(func() { close(c.gate.taken) })
	} else if !c.gate.started {
		c.gate.waiters++
	}
	c.gate.mu.Unlock()
	if starts {
		c.gate.up, c.gate.err = c.openUpstream(h, d)
		if c.gate.err == nil && first != nil {
			first(c.gate.up)
		}
		close(c.gate.done)
	}
	select {
	case <-c.gate.done:
		return c.gate.up, c.gate.err
	case <-ctx.Done():
		return nil, errTerminated
	}
}

// releaseGate is called when the claimer ends before passing the gate.
// With callers waiting, it starts the gate without a hold display so they
// get a result; otherwise it frees the claim for the next caller.
func (c *conn) releaseGate() {
	c.gate.mu.Lock()
	start := !c.gate.started && c.gate.waiters > 0
	if start {
		c.gate.started = true
	} else {
		c.gate.claimed = false
	}
	c.gate.mu.Unlock()
	if start {
		c.gate.up, c.gate.err = c.openUpstream(nil, requestDetails{})
		close(c.gate.done)
	}
}

// openUpstream runs the whole path from route to connected target.
func (c *conn) openUpstream(h holdIO, d requestDetails) (*upstream, error) {
	target, err := c.checkRoute()
	if err != nil {
		c.logger().Info("route rejected", "err", err)
		return nil, err
	}
	if _, err := c.findGrant(h, d); err != nil {
		if !errors.Is(err, errTerminated) {
			c.logger().Info("access rejected", "err", err)
		}
		return nil, err
	}
	live, err := c.srv.opts.Registry.Open(c.ctx, &store.Session{
		Kind: approval.KindSSH, Person: c.person, Target: c.route.target, Principal: c.route.login,
		ClientAddr: c.sc.RemoteAddr().String(),
	}, c)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, errTerminated
		}
		r := c.policyRejection(err)
		c.logger().Info("session rejected", "err", err)
		return nil, r
	}
	if !c.setLive(live) {
		live.End("", "")
		return nil, errTerminated
	}
	g := live.Grant()
	c.logp.Store(c.logger().With("session", live.ID(), "grant", g.ID, "request", g.RequestID))
	c.logger().Info("session opened", "window_end", g.End)

	up, err := c.dial(live, target)
	if err != nil {
		var r *rejection
		msg := "jitgate: cannot connect to " + target.Name + "; the session is closed"
		if errors.As(err, &r) {
			msg = r.msg
		}
		c.logger().Error("connecting to the target failed", "target", target.Name, "addr", target.Address, "err", err)
		live.Terminate(session.ReasonError, msg)
		return nil, errTerminated
	}
	if !c.setUpstream(up) {
		_ = up.client.Close()
		return nil, errTerminated
	}
	return up, nil
}

// checkRoute returns the target the SSH user names, or a rejection.
func (c *conn) checkRoute() (*configs.SSHTarget, error) {
	cfg := c.srv.opts.Config
	if c.routeErr != nil {
		// A user that is a target's name lacks only the login.
		if user := c.sc.User(); !strings.Contains(user, "@") {
			if target := cfg.SSHTarget(user); target != nil {
				return nil, reject(c.routeErr, "the SSH user %q is a target but names no login; connect as LOGIN@%s%s",
					user, target.Name, loginExample(target))
			}
		}
		return nil, &rejection{msg: "jitgate: " + c.routeErr.Error(), cause: c.routeErr}
	}
	target := cfg.SSHTarget(c.route.target)
	if target == nil {
		return nil, reject(approval.ErrNotFound, "unknown target %q; connect as LOGIN@TARGET with one of these targets: %s",
			c.route.target, nameList(sshTargetNames(cfg)))
	}
	if len(target.Logins) > 0 && !slices.Contains(target.Logins, c.route.login) {
		return nil, reject(approval.ErrOutOfScope, "login %q is not available on %s; use one of: %s",
			c.route.login, target.Name, nameList(target.Logins))
	}
	return target, nil
}

// maxListedNames caps the names a rejection lists, so a large config
// does not fill the person's terminal.
const maxListedNames = 10

// nameList joins names with commas, the first maxListedNames of them.
func nameList(names []string) string {
	if len(names) <= maxListedNames {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListedNames], ", "), len(names)-maxListedNames)
}

// sshTargetNames returns the names of cfg's SSH targets, in config order.
func sshTargetNames(cfg *configs.Config) []string {
	names := make([]string, 0, len(cfg.Targets.SSH))
	for _, t := range cfg.Targets.SSH {
		names = append(names, t.Name)
	}
	return names
}

// loginExample returns ", for example LOGIN@TARGET" with target's first
// listed login, or nothing when the target lists none.
func loginExample(target *configs.SSHTarget) string {
	if len(target.Logins) == 0 {
		return ""
	}
	return ", for example " + target.Logins[0] + "@" + target.Name
}

// findGrant returns the person's active grant for the route, or opens a
// request and holds until it is decided.
func (c *conn) findGrant(h holdIO, d requestDetails) (*store.Grant, error) {
	g, err := c.srv.opts.Engine.Match(c.ctx, c.person, approval.KindSSH, c.route.target, c.route.login)
	switch {
	case err == nil:
		return g, nil
	case c.ctx.Err() != nil:
		return nil, errTerminated
	case errors.Is(err, approval.ErrNoGrant):
		return c.requestAccess(h, d)
	default:
		return nil, c.policyRejection(err)
	}
}

// policyRejection turns an engine error into the message for the person.
// A *approval.PolicyError carries a message written for them. Any other
// error is jitgate's own failure, so it is logged and shown in general
// terms.
func (c *conn) policyRejection(err error) *rejection {
	var pe *approval.PolicyError
	if errors.As(err, &pe) {
		return &rejection{msg: "jitgate: " + pe.Msg, cause: err}
	}
	c.logger().Error("access check failed", "err", err)
	return reject(err, "checking access failed; try again in a minute")
}

// setLive stores the live session; it returns false when the connection
// is already ending.
func (c *conn) setLive(live *session.Live) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating {
		return false
	}
	c.live = live
	return true
}

// setUpstream stores the upstream connection and passes it to serve. It
// returns false when the connection is ending or already has an upstream,
// so the send into c.upstreams never blocks. The send happens under mu, so
// serve finds the upstream in c.upstreams once it sees it in c.up.
func (c *conn) setUpstream(up *upstream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating || c.up != nil {
		return false
	}
	c.up = up
	c.upstreams <- up
	return true
}

// endAfterRejection closes the connection once a rejection was shown, so a
// client that opened only forwards does not stay connected for nothing.
func (c *conn) endAfterRejection() {
	c.Terminate(session.ReasonClient, "")
}
