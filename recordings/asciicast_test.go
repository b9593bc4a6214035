package recordings

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var castStart = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func testCastHeader() CastHeader {
	return CastHeader{
		Width:  100,
		Height: 30,
		Title:  "deploy@web-1",
		Env:    &CastEnv{Term: "xterm-256color", Shell: "/bin/bash"},
		JITGate: &CastSession{
			Person:       "alice",
			Target:       "web-1",
			Login:        "deploy",
			RequestID:    7,
			GrantID:      3,
			SessionID:    12,
			ContractHash: "sha256:0123abcd",
			Approvers:    []string{"bob", "carol"},
			PTY:          true,
		},
		Start: castStart,
	}
}

func at(d time.Duration) time.Time { return castStart.Add(d) }

// writeGoldenCast records output, input, a resize, a marker and the euro
// sign U+20AC (E2 82 AC) split across two reads.
func writeGoldenCast(t *testing.T, w *bytes.Buffer) {
	t.Helper()
	cast, err := NewCast(w, testCastHeader())
	if err != nil {
		t.Fatalf("NewCast: %v", err)
	}
	steps := []error{
		cast.Output(at(250*time.Millisecond), []byte("deploy@web-1:~$ ")),
		cast.Input(at(1*time.Second), []byte("ls <dir>\r")),
		cast.Output(at(1100*time.Millisecond), []byte("price: \xe2\x82")),
		cast.Output(at(1200*time.Millisecond), []byte("\xac 5\r\n")),
		cast.Resize(at(2*time.Second), 120, 40),
		cast.Output(at(2500*time.Millisecond), []byte("bad \xff byte\r\n")),
		cast.Marker(at(3*time.Second), "window ends in 1m"),
		cast.Close(at(3 * time.Second)),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func TestCastGolden(t *testing.T) {
	var buf bytes.Buffer
	writeGoldenCast(t, &buf)

	golden := filepath.Join("testdata", "session.cast")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run `go test ./recordings -update` to create it): %v", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("cast differs from %s (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestCastParseRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	writeGoldenCast(t, &buf)

	header, events, err := Parse(&buf)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if header.Version != 2 {
		t.Errorf("header version = %d, want 2", header.Version)
	}
	if header.Width != 100 || header.Height != 30 {
		t.Errorf("header size = %dx%d, want 100x30", header.Width, header.Height)
	}
	if !header.Start.Equal(castStart) {
		t.Errorf("header Start = %v, want %v", header.Start, castStart)
	}
	if header.JITGate == nil {
		t.Fatal("header has no jitgate object")
	}
	if header.JITGate.GrantID != 3 {
		t.Errorf("header grant = %d, want 3", header.JITGate.GrantID)
	}
	if header.JITGate.Login != "deploy" {
		t.Errorf("header login = %q, want deploy", header.JITGate.Login)
	}
	if header.Env == nil || header.Env.Term != "xterm-256color" {
		t.Errorf("header env = %+v, want TERM xterm-256color", header.Env)
	}

	want := []Event{
		{250 * time.Millisecond, CodeOutput, "deploy@web-1:~$ "},
		{1 * time.Second, CodeInput, "ls <dir>\r"},
		{1100 * time.Millisecond, CodeOutput, "price: "},
		{1200 * time.Millisecond, CodeOutput, "€ 5\r\n"},
		{2 * time.Second, CodeResize, "120x40"},
		{2500 * time.Millisecond, CodeOutput, "bad \ufffd byte\r\n"},
		{3 * time.Second, CodeMarker, "window ends in 1m"},
	}
	if len(events) != len(want) {
		t.Fatalf("Parse returned %d events, want %d: %+v", len(events), len(want), events)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, events[i], want[i])
		}
	}
}

func TestCastUTF8Splits(t *testing.T) {
	tests := []struct {
		name   string
		reads  []string
		want   string // concatenated output after Close
		events int
	}{
		{"whole sequence", []string{"a€b"}, "a€b", 1},
		{"split after first byte", []string{"a\xe2", "\x82\xacb"}, "a€b", 2},
		{"split after second byte", []string{"a\xe2\x82", "\xacb"}, "a€b", 2},
		{"four-byte split in three", []string{"\xf0\x9f", "\x98", "\x80!"}, "😀!", 1},
		{"lone start byte then ASCII", []string{"x\xe2", "y"}, "x\ufffdy", 2},
		{"invalid byte", []string{"a\xffb"}, "a\ufffdb", 1},
		{"invalid run keeps count", []string{"\xff\xfe"}, "\ufffd\ufffd", 1},
		{"incomplete at close", []string{"ok\xe2\x82"}, "ok\ufffd\ufffd", 2},
		{"replacement char kept", []string{"\ufffd"}, "\ufffd", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			cast, err := NewCast(&buf, CastHeader{Start: castStart})
			if err != nil {
				t.Fatal(err)
			}
			for i, read := range tt.reads {
				if err := cast.Output(at(time.Duration(i)*time.Second), []byte(read)); err != nil {
					t.Fatalf("Output %d: %v", i, err)
				}
			}
			if err := cast.Close(at(time.Minute)); err != nil {
				t.Fatalf("Close: %v", err)
			}

			_, events, err := Parse(&buf)
			if err != nil {
				t.Fatalf("Parse of the written cast: %v\n%s", err, buf.String())
			}
			var got strings.Builder
			for _, ev := range events {
				got.WriteString(ev.Data)
			}
			if got.String() != tt.want {
				t.Errorf("output = %q, want %q", got.String(), tt.want)
			}
			if len(events) != tt.events {
				t.Errorf("got %d events, want %d", len(events), tt.events)
			}
		})
	}
}

func TestCastTimesNeverDecrease(t *testing.T) {
	var buf bytes.Buffer
	cast, err := NewCast(&buf, CastHeader{Start: castStart})
	if err != nil {
		t.Fatal(err)
	}
	mustNil(t, cast.Output(at(2*time.Second), []byte("a")))
	mustNil(t, cast.Output(at(1*time.Second), []byte("b")))  // late arrival
	mustNil(t, cast.Output(at(-5*time.Second), []byte("c"))) // before the start

	_, events, err := Parse(&buf)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for i, ev := range events {
		if ev.Time != 2*time.Second {
			t.Errorf("event %d time = %v, want 2s", i, ev.Time)
		}
	}
}

func TestCastHeaderDefaults(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewCast(&buf, CastHeader{Start: castStart, JITGate: &CastSession{Person: "alice"}}); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	for _, want := range []string{`"version":2`, `"width":80`, `"height":24`, `"timestamp":1772443800`, `"approvers":[]`} {
		if !strings.Contains(line, want) {
			t.Errorf("header %s lacks %s", line, want)
		}
	}
	if strings.Contains(line, `"env"`) {
		t.Errorf("header %s has an env object, but none was given", line)
	}
}

func TestCastInvalidInput(t *testing.T) {
	if _, err := NewCast(&bytes.Buffer{}, CastHeader{}); err == nil {
		t.Error("NewCast without Start: got nil error")
	}
	if _, err := NewCast(&bytes.Buffer{}, CastHeader{Start: castStart, Width: -1}); err == nil {
		t.Error("NewCast with negative width: got nil error")
	}
	cast, err := NewCast(&bytes.Buffer{}, CastHeader{Start: castStart})
	if err != nil {
		t.Fatal(err)
	}
	if err := cast.Resize(castStart, 0, 24); err == nil {
		t.Error("Resize to 0 columns: got nil error")
	}
	mustNil(t, cast.Close(castStart))
	if err := cast.Output(castStart, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Output after Close: err = %v, want ErrClosed", err)
	}
	if err := cast.Close(castStart); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: err = %v, want ErrClosed", err)
	}
}

// failingWriter accepts okWrites writes and then fails.
type failingWriter struct {
	okWrites int
	writes   int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > w.okWrites {
		return 0, errDiskFull
	}
	return len(p), nil
}

func TestCastWriteErrorSticks(t *testing.T) {
	w := &failingWriter{okWrites: 1} // the header only
	cast, err := NewCast(w, CastHeader{Start: castStart})
	if err != nil {
		t.Fatal(err)
	}
	if err := cast.Output(castStart, []byte("a")); !errors.Is(err, errDiskFull) {
		t.Errorf("first Output: err = %v, want errDiskFull", err)
	}
	if err := cast.Output(castStart, []byte("b")); !errors.Is(err, errDiskFull) {
		t.Errorf("second Output: err = %v, want errDiskFull", err)
	}
	if w.writes != 2 {
		t.Errorf("writer saw %d writes, want 2: a failed recording must stop writing", w.writes)
	}
}

func TestCastConcurrentWriters(t *testing.T) {
	var buf bytes.Buffer
	cast, err := NewCast(&buf, CastHeader{Start: castStart})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				offset := time.Duration(i) * time.Millisecond
				var err error
				switch w % 4 {
				case 0:
					err = cast.Output(at(offset), []byte("é"))
				case 1:
					err = cast.Input(at(offset), []byte("\xc3"))
				case 2:
					err = cast.Resize(at(offset), 80+i, 24)
				default:
					err = cast.Marker(at(offset), "m")
				}
				if err != nil {
					t.Errorf("writer %d event %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	mustNil(t, cast.Close(at(time.Second)))

	_, events, err := Parse(&buf)
	if err != nil {
		t.Fatalf("Parse after concurrent writes: %v", err)
	}
	// The input writers send halves of "é" (C3 A9) without the second half,
	// so those bytes only come out as replacement characters at Close.
	if len(events) < writers/4*perWriter*3 {
		t.Errorf("got %d events, want at least %d", len(events), writers/4*perWriter*3)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
