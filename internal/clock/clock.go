// Package clock is the time seam: every component that reads the time or
// waits for it takes a Clock, so tests can move time forward without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock reads the current time and schedules functions in the future.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a scheduled call that can be stopped or moved.
type Timer interface {
	// Stop prevents the call; it reports whether the call was still pending.
	Stop() bool
	// Reset schedules the call d from now; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Fake is a manual clock for tests: time moves only through Advance or Set.
type Fake struct {
	// mu guards now and timers.
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), f: f, pending: true}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.fire()
	return t
}

// Advance moves the clock forward by d and runs every timer that came due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.fire()
}

// Set moves the clock to t and runs every timer that came due.
func (c *Fake) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
	c.fire()
}

// fire starts every due timer. The calls run in their own goroutines, as
// time.AfterFunc does, so a callback may take the clock's lock.
func (c *Fake) fire() {
	c.mu.Lock()
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case !t.pending:
		case !t.at.After(c.now):
			t.pending = false
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		go t.f()
	}
}

type fakeTimer struct {
	clock   *Fake
	at      time.Time
	f       func()
	pending bool // guarded by clock.mu
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := t.pending
	t.pending = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.clock
	c.mu.Lock()
	was := t.pending
	t.at = c.now.Add(d)
	if !was {
		t.pending = true
		c.timers = append(c.timers, t)
	}
	c.mu.Unlock()
	c.fire()
	return was
}
