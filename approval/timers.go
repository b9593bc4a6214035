package approval

import (
	"context"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/store"
)

// lapseTimeout bounds the store work a timer callback does.
const lapseTimeout = 30 * time.Second

// armRequest schedules the pending request's expiry.
func (e *Engine) armRequest(r *store.Request) {
	id := r.ID
	e.arm(timerKey{"request", id}, r.ExpiresAt, func() { e.expire(id) })
}

// armGrant schedules the grant's end; an extension re-arms it.
func (e *Engine) armGrant(g *store.Grant) {
	id := g.ID
	e.arm(timerKey{"grant", id}, g.End, func() { e.end(id) })
}

func (e *Engine) arm(k timerKey, at time.Time, f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if t, ok := e.timers[k]; ok {
		t.Stop()
	}
	e.timers[k] = e.clock.AfterFunc(at.Sub(e.clock.Now()), f)
}

func (e *Engine) disarm(k timerKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.timers[k]; ok {
		t.Stop()
		delete(e.timers, k)
	}
}

// expire marks a request expired when its pending TTL has run out.
func (e *Engine) expire(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), lapseTimeout)
	defer cancel()
	e.disarm(timerKey{"request", id})
	err := e.update(ctx, func(tx store.Tx) error {
		r, err := tx.Request(ctx, id)
		if err != nil {
			return err
		}
		if r.State != store.RequestPending || e.clock.Now().Before(r.ExpiresAt) {
			return nil
		}
		return e.expireLocked(ctx, tx, r)
	})
	if err != nil {
		e.log.Error("expiring request failed", "request", id, "err", err)
	}
}

func (e *Engine) expireLocked(ctx context.Context, tx store.Tx, r *store.Request) error {
	r.State, r.DecidedAt, r.CloseReason = store.RequestExpired, e.clock.Now(), "pending TTL ran out"
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	if err := e.record(ctx, tx, audit.RequestExpired, "", r, nil, nil); err != nil {
		return err
	}
	e.log.Info("request expired", "request", r.ID)
	return e.notify(ctx, tx, Notice{Event: "request.expired", Request: r})
}

// end marks a grant ended once its window is over.
func (e *Engine) end(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), lapseTimeout)
	defer cancel()
	e.disarm(timerKey{"grant", id})
	var rearm *store.Grant
	err := e.update(ctx, func(tx store.Tx) error {
		g, err := tx.Grant(ctx, id)
		if err != nil {
			return err
		}
		if g.State != store.GrantActive {
			return nil
		}
		now := e.clock.Now()
		if now.Before(g.End) {
			rearm = g
			return nil
		}
		g.State, g.ClosedAt, g.CloseReason = store.GrantEnded, now, "window over"
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
		if err := e.record(ctx, tx, audit.GrantEnded, "", nil, g, map[string]any{"end": g.End}); err != nil {
			return err
		}
		return e.notify(ctx, tx, Notice{Event: "grant.ended", Grant: g})
	})
	if err != nil {
		e.log.Error("ending grant failed", "grant", id, "err", err)
		return
	}
	if rearm != nil {
		e.armGrant(rearm)
		return
	}
	e.log.Info("grant ended", "grant", id)
}
