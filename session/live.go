package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
)

// endTimeout bounds the store write that records a session's end.
const endTimeout = 10 * time.Second

// Live is one connection bound to a grant.
type Live struct {
	reg     *Registry
	conn    Conn
	session *store.Session
	idle    time.Duration
	ctx     context.Context // ends when the session ends
	cancel  context.CancelFunc
	done    chan struct{} // closed by End

	// mu guards the fields below.
	mu         sync.Mutex
	grant      *store.Grant
	timers     []clock.Timer
	lastIn     time.Time
	reason     Reason // set by the first terminate
	terminated bool
	ended      bool
}

// ID is the session's id in the store.
func (l *Live) ID() int64 { return l.session.ID }

// Session returns the session record as opened.
func (l *Live) Session() store.Session { return *l.session }

// Grant returns the grant as last seen; End moves with extensions.
func (l *Live) Grant() store.Grant {
	l.mu.Lock()
	defer l.mu.Unlock()
	return *l.grant
}

// Context ends when the session is terminated or ended.
func (l *Live) Context() context.Context { return l.ctx }

// Touch notes client input, which resets the idle timeout. It is cheap
// enough to call for every client message.
func (l *Live) Touch() {
	if l.idle <= 0 {
		return
	}
	now := l.reg.opts.Clock.Now()
	l.mu.Lock()
	l.lastIn = now
	l.mu.Unlock()
}

// Reason returns why the session was terminated, or ReasonClient when the
// front door ended it.
func (l *Live) Reason() Reason {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reason == "" {
		return ReasonClient
	}
	return l.reason
}

// End records the session's end with its sealed recording. The front door
// calls it once after both sides are closed.
func (l *Live) End(recording, hash string) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	reason := l.reason
	if reason == "" {
		reason = ReasonClient
		l.terminated = true
	}
	l.stopTimersLocked()
	l.mu.Unlock()
	l.cancel()
	l.reg.remove(l)

	// EndSession gets a copy, because other goroutines read l.session.
	ended := *l.session
	ended.EndReason, ended.Recording, ended.RecordingHash = string(reason), recording, hash
	ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	if err := l.reg.opts.Engine.EndSession(ctx, &ended); err != nil {
		l.reg.opts.Logger.Error("recording session end failed", "session", l.session.ID, "grant", l.session.GrantID, "err", err)
	}
	close(l.done)
}

// Done is closed after End has recorded the session's end.
func (l *Live) Done() <-chan struct{} { return l.done }

// Terminate ends the session from outside the registry, for example on an
// approver's request to kill one session.
func (l *Live) Terminate(reason Reason, msg string) { l.terminate(reason, msg) }

func (l *Live) terminate(reason Reason, msg string) {
	if l.stop(reason, msg) {
		l.logStop(reason)
	}
}

// stop terminates the session unless it already was, and reports whether
// it did. It logs nothing, so a caller that stops many sessions in turn
// does not wait for the log between two of them.
func (l *Live) stop(reason Reason, msg string) bool {
	l.mu.Lock()
	if l.terminated {
		l.mu.Unlock()
		return false
	}
	l.terminated = true
	l.reason = reason
	l.stopTimersLocked()
	l.mu.Unlock()
	l.conn.Terminate(reason, msg)
	l.cancel()
	return true
}

// stopReason returns the reason that stop recorded.
func (l *Live) stopReason() Reason {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// logStop logs a termination that stop made.
func (l *Live) logStop(reason Reason) {
	l.reg.opts.Logger.Info("session terminated", "session", l.session.ID, "grant", l.session.GrantID, "reason", reason)
}

func (l *Live) stopTimersLocked() {
	for _, t := range l.timers {
		t.Stop()
	}
	l.timers = nil
}

// arm schedules the warnings, the window end and the idle check for the
// grant as it is now, replacing earlier timers.
func (l *Live) arm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armLocked()
}

// armLocked is arm with l.mu held.
func (l *Live) armLocked() {
	clk := l.reg.opts.Clock
	if l.terminated {
		return
	}
	l.stopTimersLocked()
	g := l.grant
	left := g.End.Sub(clk.Now())
	for _, before := range l.reg.opts.WarnBefore {
		if left <= before {
			continue
		}
		msg := fmt.Sprintf("jitgate: grant %d ends in %s, at %s", g.ID, before, g.End.UTC().Format(time.RFC3339))
		l.timers = append(l.timers, clk.AfterFunc(left-before, func() { l.conn.Warn(msg) }))
	}
	end := g.End
	l.timers = append(l.timers, clk.AfterFunc(left, func() { l.reg.endWindow(l, end) }))
	if l.idle > 0 {
		l.timers = append(l.timers, clk.AfterFunc(l.idle, l.checkIdle))
	}
}

// checkIdle terminates the session when no input came for the idle timeout,
// and otherwise re-arms itself for the time left.
func (l *Live) checkIdle() {
	clk := l.reg.opts.Clock
	l.mu.Lock()
	if l.terminated {
		l.mu.Unlock()
		return
	}
	quiet := clk.Now().Sub(l.lastIn)
	if quiet < l.idle {
		l.timers = append(l.timers, clk.AfterFunc(l.idle-quiet, l.checkIdle))
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.terminate(ReasonIdle, fmt.Sprintf("jitgate: session closed after %s without input", l.idle))
}
