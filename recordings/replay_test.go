package recordings

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestReplayWritesOutputInOrder(t *testing.T) {
	var cast bytes.Buffer
	writeGoldenCast(t, &cast)

	var out bytes.Buffer
	var pauses []time.Duration
	err := Replay(&cast, &out, ReplayOptions{Sleep: func(d time.Duration) { pauses = append(pauses, d) }})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}

	want := "deploy@web-1:~$ " + "price: " + "€ 5\r\n" + "\x1b[8;40;120t" + "bad \ufffd byte\r\n"
	if out.String() != want {
		t.Errorf("replayed output = %q, want %q", out.String(), want)
	}
	if strings.Contains(out.String(), "ls <dir>") {
		t.Error("replay wrote input events, but only output and resizes belong on the terminal")
	}
	wantPauses := []time.Duration{250 * time.Millisecond, 850 * time.Millisecond, 100 * time.Millisecond, 800 * time.Millisecond, 500 * time.Millisecond}
	if !equalDurations(pauses, wantPauses) {
		t.Errorf("pauses = %v, want %v", pauses, wantPauses)
	}
}

func TestReplayPacing(t *testing.T) {
	tests := []struct {
		name string
		opt  ReplayOptions
		want []time.Duration
	}{
		{"double speed", ReplayOptions{Speed: 2}, []time.Duration{time.Second, 5 * time.Second}},
		{"idle cap", ReplayOptions{MaxIdle: 3 * time.Second}, []time.Duration{2 * time.Second, 3 * time.Second}},
		{"idle cap then speed", ReplayOptions{MaxIdle: 3 * time.Second, Speed: 3}, []time.Duration{666666666, time.Second}},
		{"infinite speed", ReplayOptions{Speed: math.Inf(1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cast bytes.Buffer
			c, err := NewCast(&cast, CastHeader{Start: castStart})
			mustNil(t, err)
			mustNil(t, c.Output(at(2*time.Second), []byte("a")))
			mustNil(t, c.Output(at(12*time.Second), []byte("b")))

			var pauses []time.Duration
			tt.opt.Sleep = func(d time.Duration) { pauses = append(pauses, d) }
			var out bytes.Buffer
			if err := Replay(&cast, &out, tt.opt); err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if !equalDurations(pauses, tt.want) {
				t.Errorf("pauses = %v, want %v", pauses, tt.want)
			}
			if out.String() != "ab" {
				t.Errorf("output = %q, want %q", out.String(), "ab")
			}
		})
	}
}

func TestReplayInvalidOptions(t *testing.T) {
	for _, opt := range []ReplayOptions{{Speed: -1}, {Speed: math.NaN()}, {MaxIdle: -time.Second}} {
		err := Replay(strings.NewReader(`{"version":2,"width":80,"height":24}`+"\n"), &bytes.Buffer{}, opt)
		if err == nil {
			t.Errorf("Replay with %+v: got nil error", opt)
		}
	}
}

func TestReplayStopsAtInvalidLine(t *testing.T) {
	file := `{"version":2,"width":80,"height":24}` + "\n" +
		`[0.1, "o", "before"]` + "\n" +
		`[0.2, "o"]` + "\n" +
		`[0.3, "o", "after"]` + "\n"
	var out bytes.Buffer
	err := Replay(strings.NewReader(file), &out, ReplayOptions{Sleep: func(time.Duration) {}})
	if !errors.Is(err, ErrInvalidCast) {
		t.Fatalf("Replay: err = %v, want ErrInvalidCast", err)
	}
	if !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %q does not name line 3", err)
	}
	if out.String() != "before" {
		t.Errorf("output = %q, want only the events before the invalid line", out.String())
	}
}

func TestParseRejectsInvalidFiles(t *testing.T) {
	const header = `{"version":2,"width":80,"height":24}` + "\n"
	tests := []struct {
		name string
		file string
	}{
		{"empty file", ""},
		{"header not JSON", "hello\n"},
		{"version 1", `{"version":1,"width":80,"height":24}` + "\n"},
		{"zero width", `{"version":2,"width":0,"height":24}` + "\n"},
		{"event not an array", header + `{"t":1}` + "\n"},
		{"two elements", header + `[1.0, "o"]` + "\n"},
		{"time is a string", header + `["1.0", "o", "x"]` + "\n"},
		{"negative time", header + `[-1.0, "o", "x"]` + "\n"},
		{"unknown code", header + `[1.0, "x", "0"]` + "\n"},
		{"data not a string", header + `[1.0, "o", 5]` + "\n"},
		{"bad resize", header + `[1.0, "r", "80-24"]` + "\n"},
		{"zero resize", header + `[1.0, "r", "0x24"]` + "\n"},
		{"time goes back", header + `[2.0, "o", "a"]` + "\n" + `[1.0, "o", "b"]` + "\n"},
		{"blank line", header + "\n" + `[1.0, "o", "b"]` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(strings.NewReader(tt.file))
			if !errors.Is(err, ErrInvalidCast) {
				t.Errorf("Parse: err = %v, want ErrInvalidCast", err)
			}
		})
	}
}

func TestParseAcceptsAsciinemaHeader(t *testing.T) {
	// The complete header example of the asciicast v2 documentation, with
	// optional keys this package does not write.
	file := `{"version": 2, "width": 80, "height": 24, "timestamp": 1504467315, "duration": 123.45, "command": "/bin/bash", "title": "Demo", "idle_time_limit": 2, "env": {"SHELL": "/bin/bash", "TERM": "xterm-256color"}, "theme": {"fg": "#d0d0d0", "bg": "#212121"}}` + "\n" +
		`[0.248848, "o", "\u001b[1;31mHello \u001b[32mWorld!\u001b[0m\n"]` + "\n" +
		`[1.500000, "m", ""]` + "\n" +
		`[4.050000, "r", "80x24"]` + "\n"
	header, events, err := Parse(strings.NewReader(file))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if header.Title != "Demo" {
		t.Errorf("header title = %q, want Demo", header.Title)
	}
	if header.Start.Unix() != 1504467315 {
		t.Errorf("header start = %d, want 1504467315", header.Start.Unix())
	}
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3", len(events))
	}
	if events[0].Time != 248848*time.Microsecond {
		t.Errorf("first event time = %v, want 248.848ms", events[0].Time)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
