package main

import (
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name             string
		values           []float64
		median, min, max float64
	}{
		{"one value", []float64{7}, 7, 7, 7},
		{"odd count", []float64{3, 1, 2}, 2, 1, 3},
		{"even count averages the middle two", []float64{4, 1, 3, 2}, 2.5, 1, 4},
		{"repeated values", []float64{5, 5, 5, 9, 1}, 5, 1, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(tt.values)
			if s.Median != tt.median {
				t.Errorf("median = %v, want %v", s.Median, tt.median)
			}
			if s.Min != tt.min {
				t.Errorf("min = %v, want %v", s.Min, tt.min)
			}
			if s.Max != tt.max {
				t.Errorf("max = %v, want %v", s.Max, tt.max)
			}
			if len(s.Runs) != len(tt.values) || s.Runs[0] != tt.values[0] {
				t.Errorf("runs = %v, want the values in their order %v", s.Runs, tt.values)
			}
		})
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if s := summarize(nil); !s.Empty() {
		t.Errorf("summarize(nil) = %+v, want an empty summary", s)
	}
	if s := summarizeLatency(nil); !s.Empty() {
		t.Errorf("summarizeLatency(nil) = %+v, want an empty summary", s)
	}
}

func TestSummarizeLatencyP99(t *testing.T) {
	values := make([]float64, 200)
	for i := range values {
		values[i] = float64(i + 1) // 1 .. 200
	}
	values[0], values[199] = values[199], values[0] // order must not matter
	s := summarizeLatency(values)
	// Rank 0.99 × 199 = 197.01 lies between 198 and 199.
	if want := 198.01; s.P99 < want-1e-9 || s.P99 > want+1e-9 {
		t.Errorf("p99 = %v, want %v", s.P99, want)
	}
	if s.Median != 100.5 {
		t.Errorf("median = %v, want 100.5", s.Median)
	}
}

func TestRatioOf(t *testing.T) {
	tests := []struct {
		name string
		a, b Summary
		want float64
		ok   bool
	}{
		{"medians divide", summarize([]float64{6}), summarize([]float64{3}), 2, true},
		{"empty numerator", Summary{}, summarize([]float64{3}), 0, false},
		{"empty denominator", summarize([]float64{3}), Summary{}, 0, false},
		{"zero denominator", summarize([]float64{3}), summarize([]float64{0}), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ratioOf(tt.a, tt.b)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if got != tt.want {
				t.Errorf("ratio = %v, want %v", got, tt.want)
			}
		})
	}
}
