package configs

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

const dateLayout = "2006-01-02"

// ParseDate parses a calendar day written as YYYY-MM-DD, at midnight UTC.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date; write YYYY-MM-DD, for example 2026-12-31", s)
	}
	return Date{t}, nil
}

// UnmarshalYAML reads a date written as YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a date, found %s; write YYYY-MM-DD, for example 2026-12-31", describeNode(n))
	}
	parsed, err := ParseDate(n.Value)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalYAML writes the date as YYYY-MM-DD, or null for the zero date.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// String formats the date as YYYY-MM-DD; the zero date is "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(dateLayout)
}
