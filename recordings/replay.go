package recordings

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// ReplayOptions controls the pace of Replay.
type ReplayOptions struct {
	// Speed divides every pause: 2 plays twice as fast. Zero means 1, and
	// +Inf writes everything without pauses. Negative values are invalid.
	Speed float64
	// MaxIdle caps each pause before scaling by Speed; zero means no cap.
	MaxIdle time.Duration
	// Sleep waits for a pause. Nil means time.Sleep.
	Sleep func(time.Duration)
}

// Replay reads an asciicast v2 file from r and writes its output to w in
// time order, pausing between events as the recording did.
//
// Output events are written as they are. A resize event is written as the
// xterm escape sequence CSI 8 ; rows ; cols t, a request that the terminal
// take the recorded size. Terminals that ignore it keep their own size.
// Input and marker events write nothing, but their time still passes.
// Replay stops at the first invalid line with an error that wraps
// ErrInvalidCast, after writing the events before it.
func Replay(r io.Reader, w io.Writer, opt ReplayOptions) error {
	opt, err := opt.withDefaults()
	if err != nil {
		return err
	}
	dec, _, err := newCastDecoder(r)
	if err != nil {
		return err
	}

	var lastWritten time.Duration // time of the last event written to w
	for {
		ev, err := dec.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		out := replayBytes(ev)
		if out == nil {
			continue
		}
		opt.pause(ev.Time - lastWritten)
		lastWritten = ev.Time
		if _, err := w.Write(out); err != nil {
			return fmt.Errorf("recordings: replay: write event at %v: %w", ev.Time, err)
		}
	}
}

func (o ReplayOptions) withDefaults() (ReplayOptions, error) {
	if o.Speed < 0 || math.IsNaN(o.Speed) {
		return o, fmt.Errorf("recordings: replay speed %v is invalid: use a positive factor, or 0 for real time", o.Speed)
	}
	if o.Speed == 0 {
		o.Speed = 1
	}
	if o.MaxIdle < 0 {
		return o, fmt.Errorf("recordings: replay MaxIdle %v is invalid: use a positive duration, or 0 for no cap", o.MaxIdle)
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	return o, nil
}

func (o ReplayOptions) pause(gap time.Duration) {
	if o.MaxIdle > 0 && gap > o.MaxIdle {
		gap = o.MaxIdle
	}
	if delay := time.Duration(float64(gap) / o.Speed); delay > 0 {
		o.Sleep(delay)
	}
}

// replayBytes returns what ev writes to the terminal, or nil for nothing.
func replayBytes(ev Event) []byte {
	switch ev.Code {
	case CodeOutput:
		return []byte(ev.Data)
	case CodeResize:
		cols, rows, err := parseSize(ev.Data)
		if err != nil {
			return nil // the decoder already rejected invalid sizes
		}
		return fmt.Appendf(nil, "\x1b[8;%d;%dt", rows, cols)
	default:
		return nil
	}
}
