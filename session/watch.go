package session

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jitgate/jitgate/store"
)

// grantWatch follows one grant for all its live sessions, so a grant with
// many sessions costs one goroutine and one store read per change, not
// one per session.
type grantWatch struct {
	id     int64
	cancel context.CancelFunc
	lives  map[*Live]struct{} // guarded by Registry.mu
	// ending is set by the first window-end timer of the grant's sessions,
	// which terminates them all, and cleared when a session outlives that
	// pass. Guarded by Registry.mu.
	ending bool
}

// watchLocked adds l to the watch of its grant and starts the watch when
// l is the grant's first live session. r.mu must be held.
func (r *Registry) watchLocked(l *Live, g *store.Grant) {
	w := r.watches[g.ID]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &grantWatch{id: g.ID, cancel: cancel, lives: map[*Live]struct{}{}}
		r.watches[g.ID] = w
		go r.follow(ctx, w, g.Version)
	}
	w.lives[l] = struct{}{}
}

// unwatchLocked removes l from its grant's watch and stops the watch
// after the last session. r.mu must be held.
func (r *Registry) unwatchLocked(l *Live, grantID int64) {
	w := r.watches[grantID]
	if w == nil {
		return // the watch ended with the grant
	}
	delete(w.lives, l)
	if len(w.lives) == 0 {
		w.cancel()
		delete(r.watches, grantID)
	}
}

// follow waits for changes to the grant and applies each to the live
// sessions: a revocation or end terminates them at once, and an
// extension re-arms their timers. It returns when the grant can change
// no more or its last session ends.
func (r *Registry) follow(ctx context.Context, w *grantWatch, version int64) {
	defer func() {
		// Sessions that open later under this grant start a new watch.
		r.mu.Lock()
		if r.watches[w.id] == w {
			delete(r.watches, w.id)
		}
		r.mu.Unlock()
		w.cancel()
	}()
	for {
		g, err := r.opts.Engine.WaitGrant(ctx, w.id, version)
		if err != nil {
			if ctx.Err() == nil {
				r.opts.Logger.Error("watching grant failed", "grant", w.id, "err", err)
				r.forEach(w, func(l *Live) {
					l.terminate(ReasonError, "jitgate: lost track of the grant; the session is closed")
				})
			}
			return
		}
		version = g.Version
		if g.State == store.GrantActive {
			r.forEach(w, func(l *Live) { l.apply(g) })
			continue
		}
		// The watch leaves the registry under the same lock that lists
		// its sessions. A session that opens under the grant from now on
		// starts a watch of its own, which gets the end at once. Had it
		// joined this watch after the listing, nothing would cut it.
		lives := r.detach(w)
		stopped := r.cutPass(lives, func(l *Live) bool { return l.apply(g) })
		for _, l := range stopped {
			l.logStop(l.stopReason())
		}
		return
	}
}

// cutHold bounds how long a cut pass keeps jitgate's threads at
// real-time priority while the final words of the sessions it cut are
// sent (see FinalWriter). For 200 SSH sessions on 2 CPUs shared with
// the target's sshd, the last of them reached the clients 20 to 45 ms
// after the window end, and the front door's FINs followed 20 to 40 ms
// later.
const cutHold = 250 * time.Millisecond

// cutPass calls stop for each of lives in turn and returns the sessions
// that stop terminated. It runs the calls at real-time priority when the
// process may raise it (see package cpuprio). Each cut wakes the process
// at the far end, and at the normal priority the scheduler can run those
// processes before the pass makes its next cut.
//
// When no session has final words to write on a goroutine of its own
// (see FinalWriter), as for Postgres, the pass runs on one raised
// thread, and nothing else is raised. Otherwise every thread of the
// process is raised for the pass and until the final words of the
// sessions it stopped are sent, at most cutHold. The goroutines that
// write them would otherwise wait behind the same processes, or for a P
// that a thread at the normal priority holds. The threads do not stay
// raised for longer, because the work that follows, such as closing each
// connection once its client has gone, would then take the CPU from
// other processes, the clients among them.
//
// Postgres passes keep to one thread, as measured before every thread
// could be raised. The benchmark ran 600 sessions, with a socket reader
// that keeps its P. There 1 of 4 runs that raised every thread measured
// a p99 over 400 ms from the window end to both sockets closed, and none
// of 5 with one raised thread. That is too few runs to be sure.
func (r *Registry) cutPass(lives []*Live, stop func(*Live) bool) []*Live {
	var stopped []*Live
	pass := func() {
		for _, l := range lives {
			if stop(l) {
				stopped = append(stopped, l)
			}
		}
	}
	if !slices.ContainsFunc(lives, (*Live).writesFinalWords) {
		_ = r.runRaised(pass) // an error means the normal priority, which still works
		return stopped
	}

	release, _ := r.begin()
	pass()
	var sent []<-chan struct{}
	for _, l := range stopped {
		if l.writesFinalWords() {
			sent = append(sent, l.conn.(FinalWriter).FinalSent())
		}
	}
	if len(sent) == 0 {
		release()
		return stopped
	}
	go func() {
		defer release()
		hold := time.NewTimer(r.cutHold)
		defer hold.Stop()
		for _, done := range sent {
			select {
			case <-done:
			case <-hold.C:
				return
			}
		}
	}()
	return stopped
}

// writesFinalWords reports whether the session's conn writes its final
// words on a goroutine of its own (see FinalWriter).
func (l *Live) writesFinalWords() bool {
	_, ok := l.conn.(FinalWriter)
	return ok
}

// detach removes w from the registry, if it is still there, and returns
// its live sessions.
func (r *Registry) detach(w *grantWatch) []*Live {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watches[w.id] == w {
		delete(r.watches, w.id)
	}
	lives := make([]*Live, 0, len(w.lives))
	for l := range w.lives {
		lives = append(lives, l)
	}
	return lives
}

// forEach calls fn for each live session of w, outside the registry lock.
func (r *Registry) forEach(w *grantWatch, fn func(*Live)) {
	r.mu.Lock()
	lives := make([]*Live, 0, len(w.lives))
	for l := range w.lives {
		lives = append(lives, l)
	}
	r.mu.Unlock()
	for _, l := range lives {
		fn(l)
	}
}

// apply takes a new version of the grant: a revocation or end terminates
// the session, and an active grant re-arms its timers. It reports whether
// it terminated the session, and logs nothing; the caller logs the stop.
func (l *Live) apply(g *store.Grant) bool {
	l.mu.Lock()
	if g.Version < l.grant.Version {
		l.mu.Unlock()
		return false // the session opened under a later version
	}
	l.grant = g
	if g.State == store.GrantActive {
		// Under the same lock, so a reader that sees the new grant also
		// finds its timers re-armed.
		l.armLocked()
		l.mu.Unlock()
		return false
	}
	l.mu.Unlock()
	switch g.State {
	case store.GrantRevoked:
		by := ""
		if g.Closer != "" {
			by = " by " + g.Closer
		}
		return l.stop(ReasonRevoked, fmt.Sprintf("jitgate: grant %d was revoked%s; the session is closed", g.ID, by))
	case store.GrantEnded:
		return l.stop(ReasonWindowEnd, windowEndMessage(g))
	}
	return false
}

// endWindow runs on a session's window-end timer, armed for the grant's
// end at armedEnd. It terminates the session and, in the same pass, every
// other session of the grant whose window has ended too. The sessions of
// a grant end at the same instant, and each of their timers starts a
// goroutine. With many sessions, the first timer to run closes them all,
// in a pass at real-time priority (cutPass), rather than leave each to
// its own goroutine, which waits for a core while the first backends
// exit. Each later timer stops only its own session, which the pass has
// usually ended already.
//
// The timer's own session ends even when the wall clock reads earlier
// than its end, unless an extension has moved the end past armedEnd,
// because the extension armed a new timer.
func (r *Registry) endWindow(l *Live, armedEnd time.Time) {
	r.mu.Lock()
	w := r.watches[l.session.GrantID]
	lives := []*Live{l}
	leader := w != nil && !w.ending
	if leader {
		w.ending = true
		for o := range w.lives {
			if o != l {
				lives = append(lives, o)
			}
		}
	}
	r.mu.Unlock()

	now := r.opts.Clock.Now()
	stop := func(o *Live) bool {
		o.mu.Lock()
		g := o.grant
		o.mu.Unlock()
		ended := !now.Before(g.End) || (o == l && !g.End.After(armedEnd))
		return ended && o.stop(ReasonWindowEnd, windowEndMessage(g))
	}
	var stopped []*Live
	if leader {
		stopped = r.cutPass(lives, stop)
		// A session whose grant an extension moved past now survived
		// the pass, and the first timer of its new end leads a pass again.
		if slices.ContainsFunc(lives, (*Live).live) {
			r.mu.Lock()
			w.ending = false
			r.mu.Unlock()
		}
	} else if stop(l) { // the first timer of the grant ended the other sessions
		stopped = []*Live{l}
	}

	for _, o := range stopped {
		o.logStop(ReasonWindowEnd)
	}
}

// live reports whether the session has not been terminated.
func (l *Live) live() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.terminated
}

// windowEndMessage returns what a client reads when g's window ends.
func windowEndMessage(g *store.Grant) string {
	return fmt.Sprintf("jitgate: grant %d ended at %s; the session is closed", g.ID, g.End.UTC().Format(time.RFC3339))
}
