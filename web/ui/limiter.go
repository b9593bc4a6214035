package ui

import (
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
)

const (
	// maxFailedSignIns is how many failed sign-ins one client address may
	// make within failedSignInWindow before further attempts are rejected
	// until the window ends. bcrypt already makes each guess slow; this
	// caps how many guesses one address gets.
	maxFailedSignIns   = 10
	failedSignInWindow = 15 * time.Minute
	// maxTrackedAddresses bounds the limiter's memory.
	maxTrackedAddresses = 10000
)

// signInLimiter counts failed sign-ins per client address.
type signInLimiter struct {
	clock clock.Clock

	// mu guards failures.
	mu       sync.Mutex
	failures map[string]*failureCount
}

type failureCount struct {
	count   int
	resetAt time.Time
}

func newSignInLimiter(c clock.Clock) *signInLimiter {
	return &signInLimiter{clock: c, failures: map[string]*failureCount{}}
}

// blockedUntil returns when addr may try again, and whether it is blocked
// now.
func (l *signInLimiter) blockedUntil(addr string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.failures[addr]
	if !ok {
		return time.Time{}, false
	}
	if !l.clock.Now().Before(f.resetAt) {
		delete(l.failures, addr)
		return time.Time{}, false
	}
	return f.resetAt, f.count >= maxFailedSignIns
}

// fail counts one failed sign-in from addr.
func (l *signInLimiter) fail(addr string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.failures[addr]
	if !ok || !now.Before(f.resetAt) {
		if len(l.failures) >= maxTrackedAddresses {
			l.sweepLocked(now)
		}
		f = &failureCount{resetAt: now.Add(failedSignInWindow)}
		l.failures[addr] = f
	}
	f.count++
}

// sweepLocked drops the counts whose window has ended and, when the map is
// still full, all of them: a full map means many addresses are guessing,
// and forgetting them costs less than growing without bound.
func (l *signInLimiter) sweepLocked(now time.Time) {
	for addr, f := range l.failures {
		if !now.Before(f.resetAt) {
			delete(l.failures, addr)
		}
	}
	if len(l.failures) >= maxTrackedAddresses {
		clear(l.failures)
	}
}
