//go:build !race

package wire

// raceEnabled reports whether the tests run with the race detector, whose
// instrumentation allocates.
const raceEnabled = false
