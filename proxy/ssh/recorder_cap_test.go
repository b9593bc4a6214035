package sshproxy

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/recordings"
)

func TestRecorderCapsStreamOutput(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	fs := recordings.NewFS(t.TempDir())
	fs.Clock = clk
	r := newChannelRecorder(clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	meta := recordingMeta{header: recordings.CastHeader{Start: clk.Now()}, outputCap: 10}
	if err := r.start(fs, 1, 0, meta); err != nil {
		t.Fatal(err)
	}
	stream := []string{"abcdef", "ghijklmn", "opqrstuvwxy"}
	for _, chunk := range stream {
		clk.Advance(time.Second)
		r.output([]byte(chunk))
	}
	path, _, err := r.seal()
	if err != nil {
		t.Fatal(err)
	}
	n, sum := r.outputDigest()
	all := strings.Join(stream, "")
	want := sha256.Sum256([]byte(all))
	if n != int64(len(all)) || sum != hex.EncodeToString(want[:]) {
		t.Errorf("digest = %d bytes %s, want %d bytes %x", n, sum, len(all), want)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, events, err := recordings.Parse(f)
	if err != nil {
		t.Fatalf("the capped recording is not valid asciicast: %v", err)
	}
	var recorded strings.Builder
	markers := 0
	for _, e := range events {
		switch e.Code {
		case "o":
			recorded.WriteString(e.Data)
		case "m":
			markers++
		}
	}
	if recorded.String() != all[:10] {
		t.Errorf("recorded output = %q, want the first 10 bytes %q", recorded.String(), all[:10])
	}
	if markers != 1 {
		t.Errorf("markers = %d, want 1 saying where recording stopped", markers)
	}
}
