package sshproxy

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/recordings"
)

// cappedRecording is what recordChunks left in the file and the counts.
type cappedRecording struct {
	recorded     string // the output events' data, joined
	outputEvents int
	markers      []string
	fileLines    [][]byte // every line of the file, the header first
	total        int64
	unrecorded   int64
	fileCap      int64
}

// recordChunks records chunks as output, one second apart, into a
// recording whose file may grow capPastHeader bytes past its header (0
// for no cap), and reads the sealed file back.
func recordChunks(t *testing.T, chunks []string, capPastHeader int64, transfer bool) cappedRecording {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	fs := recordings.NewFS(t.TempDir())
	fs.Clock = clk
	r := newChannelRecorder(clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	meta := recordingMeta{header: recordings.CastHeader{Start: clk.Now()}, transfer: transfer}
	if err := r.start(fs, 1, 0, meta); err != nil {
		t.Fatal(err)
	}
	var rec cappedRecording
	if capPastHeader > 0 {
		rec.fileCap = r.size.n + capPastHeader
		r.meta.fileCap = rec.fileCap
	}
	for _, chunk := range chunks {
		clk.Advance(time.Second)
		r.output([]byte(chunk))
	}
	path, _, err := r.seal()
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	rec.total, rec.unrecorded, ok = r.outputCounts()
	if !ok {
		t.Fatal("outputCounts reports no recording")
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec.fileLines = bytes.SplitAfter(data, []byte("\n"))
	_, events, err := recordings.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the capped recording is not valid asciicast: %v", err)
	}
	var recorded strings.Builder
	for _, e := range events {
		switch e.Code {
		case recordings.CodeOutput:
			if len(rec.markers) > 0 {
				t.Errorf("output event %q after the marker %q", e.Data, rec.markers[0])
			}
			recorded.WriteString(e.Data)
			rec.outputEvents++
		case recordings.CodeMarker:
			rec.markers = append(rec.markers, e.Data)
		}
	}
	rec.recorded = recorded.String()
	return rec
}

func TestRecorderCapCountsFileBytes(t *testing.T) {
	text := strings.Split(strings.Repeat("0123456789abcdefghi\n", 10), "\n")
	text = text[:len(text)-1]
	zeros := make([]string, 10)
	for i := range zeros {
		zeros[i] = strings.Repeat("\x00", 19)
	}
	const capPastHeader = 100

	tests := []struct {
		name   string
		chunks []string
	}{
		{"text", text},
		{"zero bytes, six file bytes each", zeros},
	}
	recordedEvents := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recordChunks(t, tt.chunks, capPastHeader, false)
			all := strings.Join(tt.chunks, "")
			k := rec.outputEvents
			if k == 0 || k >= len(tt.chunks) {
				t.Fatalf("%d of %d chunks recorded, want some but not all", k, len(tt.chunks))
			}
			if want := strings.Join(tt.chunks[:k], ""); rec.recorded != want {
				t.Errorf("recorded output = %q, want the first %d chunks whole, %q", rec.recorded, k, want)
			}
			if rec.total != int64(len(all)) || rec.unrecorded != int64(len(all)-len(rec.recorded)) {
				t.Errorf("counts = %d bytes, %d not recorded; want %d and %d", rec.total, rec.unrecorded, len(all), len(all)-len(rec.recorded))
			}
			// The chunk that took the file to the cap is the last one
			// recorded: the file was below the cap before it.
			before, after := linesSize(rec.fileLines[:k]), linesSize(rec.fileLines[:k+1])
			if before >= rec.fileCap || after < rec.fileCap {
				t.Errorf("file size %d before and %d after the last recorded chunk, want the cap %d between", before, after, rec.fileCap)
			}
			if len(rec.markers) != 1 || !strings.Contains(rec.markers[0], "not recorded") {
				t.Errorf("markers = %q, want one saying that recording stopped", rec.markers)
			}
			recordedEvents[tt.name] = k
		})
	}
	if recordedEvents["text"] <= recordedEvents["zero bytes, six file bytes each"] {
		t.Errorf("chunks recorded under the same cap: %v; want more text than zeros, since the cap counts file bytes", recordedEvents)
	}
}

func TestRecorderCountsUnrecordedOutput(t *testing.T) {
	chunks := []string{"abc", "\x00\x01", "defgh"}
	const total = 10
	tests := []struct {
		name           string
		transfer       bool
		wantRecorded   string
		wantUnrecorded int64
	}{
		{name: "no cap records all", wantRecorded: "abc\x00\x01defgh", wantUnrecorded: 0},
		{name: "a transfer records none", transfer: true, wantRecorded: "", wantUnrecorded: total},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recordChunks(t, chunks, 0, tt.transfer)
			if rec.recorded != tt.wantRecorded {
				t.Errorf("recorded output = %q, want %q", rec.recorded, tt.wantRecorded)
			}
			if rec.total != total || rec.unrecorded != tt.wantUnrecorded {
				t.Errorf("counts = %d bytes, %d not recorded; want %d and %d", rec.total, rec.unrecorded, total, tt.wantUnrecorded)
			}
		})
	}
}

func linesSize(lines [][]byte) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	return n
}
