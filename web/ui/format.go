package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/jitgate/jitgate/configs"
)

// Pages show times in UTC, because approvers and requesters may sit in
// different time zones and the API and the CLI print UTC too.
const (
	timeLayout  = "2006-01-02 15:04 UTC"
	clockLayout = "15:04 UTC"
)

// formatTime returns t as "2026-03-02 10:00 UTC", or "-" when unset.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

// formatClock returns the time of day of t, as "10:00 UTC".
func formatClock(t time.Time) string { return t.UTC().Format(clockLayout) }

// formatDuration returns d as the config writes it ("30m", "1h30m", "2d").
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return configs.Duration(d).String()
}

// relative describes t against now in whole minutes, hours or days:
// "in 29 min", "3 h ago", "just now".
func relative(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := t.Sub(now)
	future := d > 0
	if !future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		amount = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		amount = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		amount = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}

// shortHash returns the first 12 characters of a hash, enough to compare
// by eye.
func shortHash(h string) string {
	if len(h) <= 12 {
		return h
	}
	return h[:12]
}

// kindName is the display name of a request kind.
func kindName(kind string) string {
	switch kind {
	case "ssh":
		return "SSH"
	case "postgres":
		return "PostgreSQL"
	}
	return kind
}

// principalLabel names what the principal is for a kind: a login on an
// SSH host, a role on a Postgres server.
func principalLabel(kind string) string {
	if kind == "postgres" {
		return "role"
	}
	return "login"
}

// joinWords joins items as "a", "a and b" or "a, b and c".
func joinWords(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// plural returns "1 thing" or "3 things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
