package configs

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"zero without unit", "0", 0},
		{"zero seconds", "0s", 0},
		{"seconds", "90s", 90 * time.Second},
		{"hours and minutes", "1h30m", 90 * time.Minute},
		{"milliseconds", "250ms", 250 * time.Millisecond},
		{"micro sign", "5µs", 5 * time.Microsecond},
		{"fraction", "1.5h", 90 * time.Minute},
		{"leading dot", ".5m", 30 * time.Second},
		{"plus sign", "+5m", 5 * time.Minute},
		{"days", "400d", 400 * 24 * time.Hour},
		{"weeks", "2w", 14 * 24 * time.Hour},
		{"days and hours", "1d12h", 36 * time.Hour},
		{"weeks days hours minutes", "1w2d3h4m", (7+2)*24*time.Hour + 3*time.Hour + 4*time.Minute},
		{"fractional day", "0.5d", 12 * time.Hour},
		{"hipaa six years", "2190d", 2190 * 24 * time.Hour},
		{"units repeated", "1h1h", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got.Std() != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got.Std(), tt.want)
			}
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", "", "the duration is empty"},
		{"negative", "-5m", `"-5m" is negative`},
		{"negative days", "-1d", `"-1d" is negative`},
		{"no unit", "30", `"30" is not a duration`},
		{"words", "5 minutes", `"5 minutes" is not a duration`},
		{"unknown unit", "3y", `"3y" is not a duration`},
		{"unit alone", "h", `"h" is not a duration`},
		{"dot alone", ".h", `".h" is not a duration`},
		{"plus alone", "+", `"+" is not a duration`},
		{"inner space", "1h 30m", `"1h 30m" is not a duration`},
		{"sign in middle", "1h-5m", `"1h-5m" is not a duration`},
		{"overflow days", "200000w", "too long"},
		{"overflow sum", "2562047h2562047h", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) succeeded, want an error", tt.in)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.msg)
			}
			if !strings.Contains(err.Error(), "for example 90s, 1h30m, 1d12h, 2w or 400d") {
				t.Errorf("error = %q, want the accepted forms as a hint", err)
			}
		})
	}
}

// TestParseDurationMatchesGo checks that every non-negative Go duration
// parses to the same value as time.ParseDuration gives.
func TestParseDurationMatchesGo(t *testing.T) {
	for _, in := range []string{"1ns", "1us", "1μs", "1.25s", "3m7s", "100h", "2562047h", "0.000000001s", "5.s"} {
		want, err := time.ParseDuration(in)
		if err != nil {
			t.Fatalf("time.ParseDuration(%q): %v", in, err)
		}
		got, err := ParseDuration(in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", in, err)
			continue
		}
		if got.Std() != want {
			t.Errorf("ParseDuration(%q) = %v, want %v", in, got.Std(), want)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{90 * time.Second, "1m30s"},
		{time.Minute, "1m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "1d"},
		{36 * time.Hour, "1d12h"},
		{24*time.Hour + 30*time.Minute, "1d30m"},
		{400 * 24 * time.Hour, "400d"},
		{14 * 24 * time.Hour, "14d"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			d := Duration(tt.in)
			if got := d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParseDuration(d.String())
			if err != nil || back != d {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", d.String(), back, err, d)
			}
		})
	}
}

func TestDurationYAMLRoundTrip(t *testing.T) {
	type holder struct {
		D Duration `yaml:"d"`
	}
	out, err := yaml.Marshal(holder{D: Duration(36 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d: 1d12h\n" {
		t.Errorf("Marshal = %q, want %q", out, "d: 1d12h\n")
	}
	var back holder
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.D != Duration(36*time.Hour) {
		t.Errorf("Unmarshal = %v, want 1d12h", back.D)
	}
}

func TestDateYAML(t *testing.T) {
	var d Date
	if err := yaml.Unmarshal([]byte("2026-12-31"), &d); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	if !d.Equal(want) || d.Location() != time.UTC {
		t.Errorf("Unmarshal = %v, want %v", d.Time, want)
	}
	if d.String() != "2026-12-31" {
		t.Errorf("String() = %q, want 2026-12-31", d.String())
	}
	out, err := yaml.Marshal(d)
	if err != nil || string(out) != "\"2026-12-31\"\n" && string(out) != "2026-12-31\n" {
		t.Errorf("Marshal = %q, %v; want the date as YYYY-MM-DD", out, err)
	}
}

func TestContractBounds(t *testing.T) {
	cfg := mustParse(t, baseYAML)
	c := cfg.Contract("base")
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); !c.NotBefore().Equal(want) {
		t.Errorf("NotBefore = %v, want %v", c.NotBefore(), want)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !c.NotAfter().Equal(want) {
		t.Errorf("NotAfter = %v, want %v", c.NotAfter(), want)
	}
}
