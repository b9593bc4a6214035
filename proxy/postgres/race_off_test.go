//go:build !race

package postgres

// raceEnabled reports whether the tests run with the race detector, whose
// instrumentation allocates.
const raceEnabled = false
