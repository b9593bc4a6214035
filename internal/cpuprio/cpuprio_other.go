//go:build !linux

package cpuprio

import (
	"errors"
	"log/slog"
	"runtime"
	"time"
)

// MaxBurst bounds how long one burst keeps the threads raised.
const MaxBurst = 500 * time.Millisecond

// Begin returns an error and changes nothing, because only Linux builds
// raise the priority.
func Begin() (release func(), err error) { return func() {}, Check() }

// Run calls f at the normal priority and returns the error that Check
// returns.
func Run(f func()) error {
	f()
	return Check()
}

// StopOnTimeLimit does nothing, because no burst raises the priority.
func StopOnTimeLimit(log *slog.Logger) {}

// Check returns the error that Begin returns on this system.
func Check() error {
	return errors.New("real-time priority is raised only on Linux, not on " + runtime.GOOS)
}
