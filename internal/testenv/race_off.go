//go:build !race

package testenv

// RaceEnabled reports whether the binary runs with the race detector,
// whose instrumentation allocates, so allocation counts do not hold.
const RaceEnabled = false
