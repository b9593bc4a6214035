//go:build !linux

package cpuprio

import (
	"errors"
	"runtime"
)

// Run calls f at the normal priority and returns an error, because only
// Linux builds raise the priority.
func Run(f func()) error {
	f()
	return errors.New("real-time priority is raised only on Linux, not on " + runtime.GOOS)
}

// Check returns the error that Run returns on this system.
func Check() error { return Run(func() {}) }
