package configs

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST cases need Europe/Berlin on any test machine
)

// utc builds an instant in UTC; the comments in the tables give Berlin time.
func utc(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
}

// In 2026 Berlin moves from CET (UTC+1) to CEST (UTC+2) on Sunday 29 March
// at 01:00 UTC, and back on Sunday 25 October at 01:00 UTC.
var (
	officeHours = &Hours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00", TimeZone: "Europe/Berlin"}
	gapHours    = &Hours{Days: dayNames, From: "02:30", To: "04:00", TimeZone: "Europe/Berlin"}
	repeatHours = &Hours{Days: dayNames, From: "02:00", To: "02:30", TimeZone: "Europe/Berlin"}
	weekendUTC  = &Hours{Days: []string{"sat", "sun"}, From: "00:00", To: "24:00", TimeZone: "UTC"}
	badHours    = &Hours{Days: []string{"someday"}, From: "08:00", To: "18:00"}
)

func TestHoursPermitted(t *testing.T) {
	tests := []struct {
		name  string
		hours *Hours
		at    time.Time
		want  bool
	}{
		{"weekday inside", officeHours, utc(2026, 3, 27, 9, 0), true},                      // Fri 10:00 CET
		{"at opening", officeHours, utc(2026, 3, 27, 7, 0), true},                          // Fri 08:00 CET
		{"before opening", officeHours, utc(2026, 3, 27, 6, 59), false},                    // Fri 07:59 CET
		{"last second", officeHours, utc(2026, 3, 27, 16, 59).Add(59 * time.Second), true}, // Fri 17:59:59 CET
		{"at closing", officeHours, utc(2026, 3, 27, 17, 0), false},                        // Fri 18:00 CET
		{"saturday", officeHours, utc(2026, 3, 28, 9, 0), false},                           // Sat 10:00 CET
		{"after spring change", officeHours, utc(2026, 3, 30, 6, 0), true},                 // Mon 08:00 CEST
		{"utc time inside but berlin before", officeHours, utc(2026, 3, 30, 5, 30), false}, // Mon 07:30 CEST
		{"after the gap", gapHours, utc(2026, 3, 29, 1, 30), true},                         // Sun 03:30 CEST
		{"first 02:15 of fall change", repeatHours, utc(2026, 10, 25, 0, 15), true},        // 02:15 CEST
		{"between the repeats", repeatHours, utc(2026, 10, 25, 0, 45), false},              // 02:45 CEST
		{"second 02:15 of fall change", repeatHours, utc(2026, 10, 25, 1, 15), true},       // 02:15 CET
		{"weekend until midnight", weekendUTC, utc(2026, 3, 29, 23, 59), true},             // Sun 23:59 UTC
		{"monday after weekend", weekendUTC, utc(2026, 3, 30, 0, 0), false},                // Mon 00:00 UTC
		{"nil hours", nil, utc(2026, 3, 28, 3, 0), true},
		{"invalid hours", badHours, utc(2026, 3, 27, 9, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hours.Permitted(tt.at); got != tt.want {
				t.Errorf("Permitted(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestHoursNext(t *testing.T) {
	tests := []struct {
		name  string
		hours *Hours
		at    time.Time
		want  time.Time
	}{
		{"permitted returns itself", officeHours, utc(2026, 3, 27, 9, 0), utc(2026, 3, 27, 9, 0)},
		{"early same day", officeHours, utc(2026, 3, 27, 5, 0), utc(2026, 3, 27, 7, 0)},                        // Fri 06:00 CET → 08:00 CET
		{"friday evening over weekend and dst", officeHours, utc(2026, 3, 27, 17, 30), utc(2026, 3, 30, 6, 0)}, // Fri 18:30 CET → Mon 08:00 CEST
		{"saturday over fall change", officeHours, utc(2026, 10, 24, 10, 0), utc(2026, 10, 26, 7, 0)},          // Sat 12:00 CEST → Mon 08:00 CET
		{"opening inside the gap", gapHours, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 0)},                  // Sun 00:00 CET → 03:00 CEST
		{"day after the gap", gapHours, utc(2026, 3, 29, 2, 0), utc(2026, 3, 30, 0, 30)},                       // Sun 04:00 CEST → Mon 02:30 CEST
		{"second pass of repeated hour", repeatHours, utc(2026, 10, 25, 0, 45), utc(2026, 10, 25, 1, 0)},       // 02:45 CEST → 02:00 CET
		{"weekday to weekend", weekendUTC, utc(2026, 3, 27, 12, 0), utc(2026, 3, 28, 0, 0)},
		{"nil hours", nil, utc(2026, 3, 28, 3, 0), utc(2026, 3, 28, 3, 0)},
		{"invalid hours", badHours, utc(2026, 3, 27, 9, 0), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.hours.Next(tt.at)
			if !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.at, got, tt.want)
			}
			if !tt.want.IsZero() && !tt.hours.Permitted(got) {
				t.Errorf("Next(%v) = %v, which is not permitted", tt.at, got)
			}
		})
	}
}

func TestHoursDefaultsFromConfig(t *testing.T) {
	cfg := mustParse(t, applyEdits(t, baseYAML, []edit{withHours("        time_zone: Europe/Berlin\n")}))
	h := cfg.Contracts[0].Window.Hours
	if got := h.Days; len(got) != 5 || got[0] != "mon" || got[4] != "fri" {
		t.Errorf("days = %v, want mon to fri", got)
	}
	if h.From != "00:00" || h.To != "24:00" {
		t.Errorf("from, to = %s, %s; want 00:00, 24:00", h.From, h.To)
	}
	if !h.Permitted(utc(2026, 3, 27, 22, 59)) { // Fri 23:59 CET
		t.Error("Friday 23:59 in Berlin is not permitted")
	}
	if h.Permitted(utc(2026, 3, 27, 23, 0)) { // Sat 00:00 CET
		t.Error("Saturday 00:00 in Berlin is permitted")
	}
}
