package configs

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// dayNames are the accepted values of hours.days, indexed by time.Weekday.
var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// defaultDays apply when hours.days is omitted.
var defaultDays = []string{"mon", "tue", "wed", "thu", "fri"}

// hoursRule is Hours in parsed form.
type hoursRule struct {
	days     [7]bool // indexed by time.Weekday
	from, to int     // minutes after local midnight; to may be 1440 (24:00)
	location *time.Location
}

// Permitted reports whether access is permitted at t: t falls on a listed
// day and its wall-clock time in the hours' time zone is at or after From
// and before To. A nil *Hours permits every instant. Hours that do not
// parse permit nothing, which Load never lets through.
func (h *Hours) Permitted(t time.Time) bool {
	if h == nil {
		return true
	}
	rule, err := h.parse()
	if err != nil {
		return false
	}
	return rule.permits(t)
}

// Next returns the earliest instant at or after t at which access is
// permitted, in the hours' time zone. It returns t itself when t is
// permitted and the zero time when no instant in the following 8 days is,
// which happens only for hours that do not parse. When From falls in a
// daylight saving gap (02:30 on the day clocks jump from 02:00 to 03:00),
// the window opens at the jump, the first instant whose clock reads later
// than From.
func (h *Hours) Next(t time.Time) time.Time {
	if h.Permitted(t) {
		return t
	}
	rule, err := h.parse()
	if err != nil {
		return time.Time{}
	}

	local := t.In(rule.location)
	var best time.Time
	for offset := range 8 {
		opening := time.Date(local.Year(), local.Month(), local.Day()+offset, rule.from/60, rule.from%60, 0, 0, rule.location)
		// A From time inside a DST gap normalizes to some instant near the
		// gap. The zone change that bounds the gap is then either the
		// start or the end of the zone that Go picked, so both are tried.
		zoneStart, zoneEnd := opening.ZoneBounds()
		for _, candidate := range []time.Time{opening, zoneStart, zoneEnd} {
			if candidate.IsZero() || candidate.Before(t) || !rule.permits(candidate) {
				continue
			}
			if best.IsZero() || candidate.Before(best) {
				best = candidate
			}
		}
	}
	return best
}

func (r hoursRule) permits(t time.Time) bool {
	local := t.In(r.location)
	if !r.days[local.Weekday()] {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	return minute >= r.from && minute < r.to
}

// parse checks and converts the hours. Errors name the field as its yaml
// key, so validation can report them at the right path.
func (h *Hours) parse() (hoursRule, error) {
	var rule hoursRule
	var errs []hoursError

	days := h.Days
	if days == nil {
		days = defaultDays
	}
	if len(days) == 0 {
		errs = append(errs, hoursError{"days", "the list is empty; list at least one day such as mon, or remove days to use mon to fri"})
	}
	for i, name := range days {
		index := slices.Index(dayNames, name)
		if index < 0 {
			errs = append(errs, hoursError{indexPath("days", i), notOneOf(name, dayNames)})
			continue
		}
		rule.days[index] = true
	}

	var err error
	if rule.from, err = parseClock(h.From, "00:00", false); err != nil {
		errs = append(errs, hoursError{"from", err.Error()})
	}
	if rule.to, err = parseClock(h.To, "24:00", true); err != nil {
		errs = append(errs, hoursError{"to", err.Error()})
	}
	if len(errs) == 0 && rule.to <= rule.from {
		errs = append(errs, hoursError{"to", fmt.Sprintf("%s is not after from %s; set to later than from on the same day (24:00 is the end of the day)", h.To, h.From)})
	}

	if rule.location, err = loadLocation(h.TimeZone); err != nil {
		errs = append(errs, hoursError{"time_zone", err.Error()})
	}
	if len(errs) > 0 {
		return hoursRule{}, hoursErrors(errs)
	}
	return rule, nil
}

// parseClock parses HH:MM into minutes after midnight. An empty value
// means fallback. 24:00 is accepted only as an end time.
func parseClock(s, fallback string, isEnd bool) (int, error) {
	if s == "" {
		s = fallback
	}
	bad := fmt.Errorf("%q is not a time of day; write HH:MM with two digits each, from 00:00 to 23:59 (to may also be 24:00)", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	hours, minutes := twoDigits(s[0:2]), twoDigits(s[3:5])
	switch {
	case hours < 0 || minutes < 0 || minutes > 59:
		return 0, bad
	case hours == 24 && minutes == 0 && isEnd:
		return 24 * 60, nil
	case hours > 23:
		return 0, bad
	}
	return hours*60 + minutes, nil
}

// twoDigits parses exactly two ASCII digits, returning -1 otherwise.
func twoDigits(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

var locations sync.Map // time zone name → *time.Location

// loadLocation loads an IANA time zone once and keeps it, because
// time.LoadLocation reads the zone file on every call. An empty name means
// UTC. "Local" is rejected: it would make permitted hours depend on the
// zone of whichever machine runs jitgate.
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if cached, ok := locations.Load(name); ok {
		return cached.(*time.Location), nil
	}
	if strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q depends on the server's settings; name an IANA time zone such as Europe/Berlin or UTC", name)
	}
	location, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known time zone; name an IANA time zone such as Europe/Berlin or UTC, and install time zone data (tzdata) on servers that lack it", name)
	}
	locations.Store(name, location)
	return location, nil
}

// hoursError is one problem in Hours; key is relative to the hours block.
type hoursError struct {
	key string
	msg string
}

type hoursErrors []hoursError

func (e hoursErrors) Error() string {
	parts := make([]string, len(e))
	for i, item := range e {
		parts[i] = item.key + ": " + item.msg
	}
	return strings.Join(parts, "\n")
}
