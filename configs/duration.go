package configs

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// durationHint lists the accepted forms; every duration error ends with it.
const durationHint = "write a number and a unit (ns, us, ms, s, m, h, d for 24h, w for 7d), for example 90s, 1h30m, 1d12h, 2w or 400d"

// durationPart matches one number-and-unit part of a duration. Longer units
// come first, so "ms" is not read as "m" followed by "s".
var durationPart = regexp.MustCompile(`^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h|d|w)`)

// ParseDuration parses a duration as time.ParseDuration does, and also
// accepts the units d (24 hours) and w (7 days), as in "400d", "2w" and
// "1d12h". It rejects negative durations. A day is always 24 hours here,
// also across a daylight saving change.
func ParseDuration(s string) (Duration, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("the duration is empty; %s", durationHint)
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("%q is negative; durations must be 0 or more, so %s", s, durationHint)
	case s == "0":
		return 0, nil
	}

	rest := strings.TrimPrefix(s, "+")
	if rest == "" {
		return 0, fmt.Errorf("%q is not a duration; %s", s, durationHint)
	}
	var total time.Duration
	for rest != "" {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil || m[1] == "" || m[1] == "." {
			return 0, fmt.Errorf("%q is not a duration; %s", s, durationHint)
		}
		part, err := parseDurationPart(m[1], m[2])
		if err != nil || total > math.MaxInt64-part {
			return 0, fmt.Errorf("%q is too long: durations stop at about 292 years; %s", s, durationHint)
		}
		total += part
		rest = rest[len(m[0]):]
	}
	return Duration(total), nil
}

// parseDurationPart converts one number and unit. time.ParseDuration does the
// standard units; a day or week is that many hours times 24 or 168.
func parseDurationPart(number, unit string) (time.Duration, error) {
	multiplier := int64(1)
	switch unit {
	case "d":
		unit, multiplier = "h", 24
	case "w":
		unit, multiplier = "h", 168
	}
	hours, err := time.ParseDuration(number + unit)
	if err != nil {
		return 0, err
	}
	if int64(hours) > math.MaxInt64/multiplier {
		return 0, errors.New("overflow")
	}
	return hours * time.Duration(multiplier), nil
}

// UnmarshalYAML reads a duration written as ParseDuration accepts it.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration, found %s; %s", describeNode(n), durationHint)
	}
	parsed, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalYAML writes the duration as String does, so it reads back unchanged.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String formats the duration with whole days first ("400d", "1d12h") and
// drops zero minutes and seconds ("1h", not "1h0m0s"). Zero is "0s".
func (d Duration) String() string {
	std := time.Duration(d)
	if std < 0 {
		return std.String()
	}
	days := std / day
	rest := std % day
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		if rest == 0 {
			return b.String()
		}
	}
	b.WriteString(trimZeroUnits(rest.String()))
	return b.String()
}

// trimZeroUnits shortens time.Duration.String output: "1h0m0s" to "1h" and
// "5m0s" to "5m".
func trimZeroUnits(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
