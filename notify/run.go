package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
)

// Run delivers queued items until ctx ends. It wakes when the store
// commits a change, when a delivery finishes and when the next retry comes
// due, and never polls. When ctx ends it cancels the attempts in flight,
// waits for them to record their result, and returns nil. It returns an
// error only when Run is already running on n.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("notify: Run is already running on this Notifier")
	}
	defer n.running.Store(false)

	changes, unsubscribe := n.store.Changes()
	defer unsubscribe()
	wake := make(chan struct{}, 1)
	timer := &wakeTimer{clock: n.clock, signal: func() { signal(wake) }}
	defer timer.stop()
	// Each endpoint has at most one delivery in flight, so a buffer of one
	// per endpoint never blocks a finishing delivery, even after Run has
	// stopped reading.
	finished := make(chan string, len(n.endpoints))
	var inFlight sync.WaitGroup
	defer inFlight.Wait()

	n.log.Info("webhook delivery started", "webhooks", len(n.endpoints))
	busy := map[string]bool{}
	failures := 0
	for {
		items, next, err := n.dispatch(ctx, busy)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait := n.backoff.Delay(failures, 0.5)
			n.log.Error("webhook dispatch failed; retrying", "err", err, "retry_in", wait, "failures", failures)
			next = n.clock.Now().Add(wait)
		case err == nil:
			failures = 0
		}
		for _, it := range items {
			busy[it.Endpoint] = true
			inFlight.Go(func() {
				n.deliver(ctx, it)
				finished <- it.Endpoint
			})
		}
		timer.at(next)

		select {
		case <-ctx.Done():
			n.log.Info("webhook delivery stopping", "in_flight", len(busy))
			return nil
		case <-changes:
		case <-wake:
		case name := <-finished:
			delete(busy, name)
		}
		drainFinished(finished, busy)
	}
}

// drainFinished marks every endpoint whose delivery has finished as free,
// so one dispatch serves them all.
func drainFinished(finished <-chan string, busy map[string]bool) {
	for {
		select {
		case name := <-finished:
			delete(busy, name)
		default:
			return
		}
	}
}

// signal wakes the Run loop without blocking: a pending wake-up already
// makes it look at the outbox again.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wakeTimer wakes the Run loop when the next item comes due. It is used by
// the Run goroutine only.
type wakeTimer struct {
	clock  clock.Clock
	signal func()
	t      clock.Timer
}

// at replaces the pending wake-up with one at when; a zero when leaves
// none.
func (w *wakeTimer) at(when time.Time) {
	w.stop()
	if when.IsZero() {
		return
	}
	w.t = w.clock.AfterFunc(when.Sub(w.clock.Now()), w.signal)
}

func (w *wakeTimer) stop() {
	if w.t != nil {
		w.t.Stop()
		w.t = nil
	}
}
