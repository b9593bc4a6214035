package session

import "time"

// SetCutBurst replaces how long r's cut passes wait for final words, and
// with begin, what raises the priority for them.
func SetCutBurst(r *Registry, hold time.Duration, begin func() (func(), error)) {
	r.cutHold = hold
	if begin != nil {
		r.begin = begin
	}
}
