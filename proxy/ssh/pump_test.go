package sshproxy

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// burstReader returns its bursts in order, like an SSH channel whose
// sender pauses after each burst, so a Read never spans two bursts. It
// notes the buffer size of every Read.
type burstReader struct {
	bursts    [][]byte
	readSizes []int
}

func (r *burstReader) Read(p []byte) (int, error) {
	r.readSizes = append(r.readSizes, len(p))
	for len(r.bursts) > 0 && len(r.bursts[0]) == 0 {
		r.bursts = r.bursts[1:]
	}
	if len(r.bursts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.bursts[0])
	r.bursts[0] = r.bursts[0][n:]
	return n, nil
}

func TestPumpBufferFollowsReadSizes(t *testing.T) {
	tests := []struct {
		name      string
		bursts    []int
		wantSizes []int
	}{
		{"keystrokes stay small", []int{1, 5, 100}, []int{idleReadSize, idleReadSize, idleReadSize, idleReadSize}},
		{"a burst moves up a size per full read and back down when short",
			[]int{idleReadSize + 2*packetReadSize + 10, 3},
			[]int{idleReadSize, packetReadSize, bulkReadSize, packetReadSize, idleReadSize}},
		{"a bulk transfer keeps the bulk size",
			[]int{idleReadSize + packetReadSize + 3*bulkReadSize + 5, 1},
			[]int{idleReadSize, packetReadSize, bulkReadSize, bulkReadSize, bulkReadSize, bulkReadSize, idleReadSize, idleReadSize}},
		{"exactly the small size", []int{idleReadSize, 1}, []int{idleReadSize, packetReadSize, idleReadSize}},
		{"exactly one packet after the small size", []int{idleReadSize + packetReadSize, 7},
			[]int{idleReadSize, packetReadSize, bulkReadSize, idleReadSize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			r := &burstReader{}
			for i, n := range tt.bursts {
				b := bytes.Repeat([]byte{byte('a' + i)}, n)
				want.Write(b)
				r.bursts = append(r.bursts, b)
			}
			var got bytes.Buffer
			err := pump(r, func(p []byte) error {
				got.Write(p)
				return nil
			})
			if !errors.Is(err, io.EOF) {
				t.Errorf("pump returned %v, want io.EOF", err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("pump delivered %d bytes that differ from the %d read", got.Len(), want.Len())
			}
			if !slices.Equal(r.readSizes, tt.wantSizes) {
				t.Errorf("read buffer sizes = %v, want %v", r.readSizes, tt.wantSizes)
			}
		})
	}
}

func TestPumpStopsAtFirstUseError(t *testing.T) {
	stop := errors.New("client gone")
	r := &burstReader{bursts: [][]byte{make([]byte, 3*bulkReadSize)}}
	calls := 0
	err := pump(r, func([]byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("pump = %v after %d calls, want %v after 1", err, calls, stop)
	}
}
