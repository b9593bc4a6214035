package main

import (
	"math"
	"slices"
)

// Summary holds the order statistics of one set of measurements.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// P99 is set only for latency samples, where the tail is the point.
	P99 float64 `json:"p99,omitempty"`
	// Runs holds every measurement in the order taken.
	Runs []float64 `json:"runs"`
}

// Empty reports whether the summary has no measurement.
func (s Summary) Empty() bool { return len(s.Runs) == 0 }

// summarize returns the median, minimum and maximum of values. An empty
// input gives an empty Summary.
func summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return Summary{
		Median: percentileSorted(sorted, 50),
		Min:    sorted[0],
		Max:    sorted[len(sorted)-1],
		Runs:   slices.Clone(values),
	}
}

// summarizeLatency is summarize plus the 99th percentile.
func summarizeLatency(values []float64) Summary {
	s := summarize(values)
	if s.Empty() {
		return s
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	s.P99 = percentileSorted(sorted, 99)
	return s
}

// percentileSorted returns the p-th percentile (0 to 100) of sorted, which
// must not be empty, by linear interpolation between the closest ranks:
// the default method of numpy.percentile and the one of PostgreSQL's
// percentile_cont. The median of an even count is the mean of the middle
// two values.
func percentileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	rank := p / 100 * float64(n-1)
	lower := int(math.Floor(rank))
	if lower >= n-1 {
		return sorted[n-1]
	}
	frac := rank - float64(lower)
	return sorted[lower] + frac*(sorted[lower+1]-sorted[lower])
}

// ratioOf returns a/b, and false when either summary is empty or b's
// median is zero.
func ratioOf(a, b Summary) (float64, bool) {
	if a.Empty() || b.Empty() || b.Median == 0 {
		return 0, false
	}
	return a.Median / b.Median, true
}
