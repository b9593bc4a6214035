package notify

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Backoff spaces the attempts of one outbox item: after the n-th failed
// attempt the next one waits Base * Factor^(n-1), changed by a random
// fraction of up to ±Jitter and then capped at Max.
type Backoff struct {
	Base   time.Duration // wait after the first failure
	Factor float64       // growth per further failure, 1 or more
	Max    time.Duration // no wait is longer, jitter included
	// Jitter is the fraction, from 0 to 1, by which each wait may randomly
	// grow or shrink, so that endpoints that failed together do not retry
	// in lockstep. 0 turns it off.
	Jitter float64
}

// DefaultBackoff waits about 1s, 2s, 4s ... up to 5 minutes, ±20%.
var DefaultBackoff = Backoff{
	Base:   time.Second,
	Factor: 2,
	Max:    5 * time.Minute,
	Jitter: 0.2,
}

func (b Backoff) check() error {
	var errs []error
	if b.Base <= 0 {
		errs = append(errs, fmt.Errorf("Backoff.Base %s is not positive", b.Base))
	}
	if b.Factor < 1 || math.IsNaN(b.Factor) || math.IsInf(b.Factor, 0) {
		errs = append(errs, fmt.Errorf("Backoff.Factor %g is below 1 or not finite", b.Factor))
	}
	if b.Max < b.Base {
		errs = append(errs, fmt.Errorf("Backoff.Max %s is below Backoff.Base %s", b.Max, b.Base))
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		errs = append(errs, fmt.Errorf("Backoff.Jitter %g is outside 0 to 1", b.Jitter))
	}
	return errors.Join(errs...)
}

// Delay returns the wait after failures failed attempts (1 or more). unit
// is a random number in [0, 1) that picks the jitter; 0.5 means none.
func (b Backoff) Delay(failures int, unit float64) time.Duration {
	if failures < 1 {
		failures = 1
	}
	wait := float64(b.Base) * math.Pow(b.Factor, float64(failures-1))
	// Capping before the jitter keeps the product finite; capping again
	// after it keeps Max a real upper bound.
	wait = math.Min(wait, float64(b.Max))
	wait *= 1 + b.Jitter*(2*unit-1)
	return time.Duration(math.Min(wait, float64(b.Max)))
}
