package notify

import (
	"strings"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	cases := []struct {
		name     string
		failures int
		unit     float64
		want     time.Duration
	}{
		{"first failure", 1, 0.5, time.Second},
		{"second failure", 2, 0.5, 2 * time.Second},
		{"fifth failure", 5, 0.5, 16 * time.Second},
		{"ninth failure reaches the cap", 9, 0.5, 256 * time.Second},
		{"tenth failure capped", 10, 0.5, 5 * time.Minute},
		{"huge count capped", 10000, 0.5, 5 * time.Minute},
		{"zero failures as one", 0, 0.5, time.Second},
		{"lowest jitter", 3, 0, 3200 * time.Millisecond},
		{"highest jitter", 3, 1, 4800 * time.Millisecond},
		{"jitter never passes the cap", 10, 1, 5 * time.Minute},
		{"jitter below the cap", 10, 0, 4 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultBackoff.Delay(tc.failures, tc.unit); got != tc.want {
				t.Errorf("Delay(%d, %g) = %s, want %s", tc.failures, tc.unit, got, tc.want)
			}
		})
	}
}

func TestBackoffCheck(t *testing.T) {
	cases := []struct {
		name    string
		backoff Backoff
		want    string // empty for a valid backoff
	}{
		{"default", DefaultBackoff, ""},
		{"no jitter", Backoff{Base: time.Millisecond, Factor: 1, Max: time.Millisecond}, ""},
		{"zero base", Backoff{Factor: 2, Max: time.Second}, "Backoff.Base 0s is not positive"},
		{"shrinking factor", Backoff{Base: time.Second, Factor: 0.5, Max: time.Minute}, "Backoff.Factor 0.5 is below 1"},
		{"max below base", Backoff{Base: time.Minute, Factor: 2, Max: time.Second}, "Backoff.Max 1s is below Backoff.Base 1m0s"},
		{"jitter above one", Backoff{Base: time.Second, Factor: 2, Max: time.Minute, Jitter: 1.5}, "Backoff.Jitter 1.5 is outside 0 to 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.backoff.check()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("check() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("check() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
