package recordings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// ErrClosed is returned by writes to a recording after Close or Seal.
var ErrClosed = errors.New("recordings: recording is closed")

// castTimeResolution is the precision of event times in the file, the six
// decimal places that asciinema itself writes.
const castTimeResolution = time.Microsecond

// Cast writes one asciicast v2 recording. Each event is encoded as one
// line and handed to the underlying writer in one Write call, so nothing
// is buffered inside Cast. Its methods are safe for concurrent use.
//
// Event times are offsets from CastHeader.Start. A time before the start
// or before the previous event is written as the previous event's time,
// because players expect times that never decrease and the output and
// input readers of one session race each other for the lock.
type Cast struct {
	w     io.Writer
	start time.Time

	// mu guards the fields below.
	mu     sync.Mutex
	last   time.Duration
	output utf8Stream
	input  utf8Stream
	err    error // first write error, returned by every later call
	closed bool
}

// NewCast writes the header line of h to w and returns the writer for the
// events. h.Start is required; Version and Timestamp are set from it.
func NewCast(w io.Writer, h CastHeader) (*Cast, error) {
	header, err := normalizeCastHeader(h)
	if err != nil {
		return nil, err
	}
	line, err := marshalLine(header)
	if err != nil {
		return nil, fmt.Errorf("recordings: encode asciicast header: %w", err)
	}
	if _, err := w.Write(line); err != nil {
		return nil, fmt.Errorf("recordings: write asciicast header: %w", err)
	}
	return &Cast{w: w, start: h.Start}, nil
}

func normalizeCastHeader(h CastHeader) (CastHeader, error) {
	if h.Start.IsZero() {
		return h, errors.New("recordings: asciicast header has no Start: set it to the session start")
	}
	if h.Width < 0 || h.Height < 0 {
		return h, fmt.Errorf("recordings: invalid terminal size %dx%d in asciicast header: use positive columns and rows, or 0 for the default", h.Width, h.Height)
	}
	h.Version = castVersion
	h.Timestamp = h.Start.Unix()
	if h.Width == 0 || h.Height == 0 {
		h.Width, h.Height = DefaultCastWidth, DefaultCastHeight
	}
	if h.JITGate != nil && h.JITGate.Approvers == nil {
		session := *h.JITGate
		session.Approvers = []string{} // written as [] rather than null
		h.JITGate = &session
	}
	return h, nil
}

// Output records data the target sent to the terminal.
func (c *Cast) Output(at time.Time, data []byte) error {
	return c.writeStream(at, CodeOutput, &c.output, data)
}

// Input records data the person typed. The caller applies redaction.
func (c *Cast) Input(at time.Time, data []byte) error {
	return c.writeStream(at, CodeInput, &c.input, data)
}

// Resize records a terminal size change, in columns and rows.
func (c *Cast) Resize(at time.Time, cols, rows int) error {
	if cols <= 0 || rows <= 0 {
		return fmt.Errorf("recordings: invalid terminal size %dx%d: columns and rows must be positive", cols, rows)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeEvent(at, CodeResize, formatSize(cols, rows))
}

// Marker records a named point in the session, such as a warning that the
// window is about to end.
func (c *Cast) Marker(at time.Time, label string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeEvent(at, CodeMarker, validUTF8([]byte(label)))
}

// Close writes the held bytes of any incomplete UTF-8 sequence as U+FFFD
// and makes later calls return ErrClosed. It does not close the
// underlying writer.
func (c *Cast) Close(at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	var errs []error
	if text := c.output.flush(); text != "" {
		errs = append(errs, c.writeEvent(at, CodeOutput, text))
	}
	if text := c.input.flush(); text != "" {
		errs = append(errs, c.writeEvent(at, CodeInput, text))
	}
	c.closed = true
	return errors.Join(errs...)
}

func (c *Cast) writeStream(at time.Time, code string, stream *utf8Stream, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return err
	}
	text := stream.next(data)
	if text == "" {
		return nil // all of data is the start of a sequence held for the next call
	}
	return c.writeEvent(at, code, text)
}

func (c *Cast) usable() error {
	if c.closed {
		return ErrClosed
	}
	return c.err
}

// writeEvent writes one event line. The caller holds mu.
func (c *Cast) writeEvent(at time.Time, code, data string) error {
	if err := c.usable(); err != nil {
		return err
	}
	offset := max(at.Sub(c.start).Truncate(castTimeResolution), c.last)
	c.last = offset

	line, err := encodeEvent(offset, code, data)
	if err != nil {
		return fmt.Errorf("recordings: encode asciicast %q event: %w", code, err)
	}
	if _, err := c.w.Write(line); err != nil {
		c.err = fmt.Errorf("recordings: write asciicast event: %w", err)
		return c.err
	}
	return nil
}

// encodeEvent returns `[seconds, "code", "data"]` and a newline, spaced as
// in the asciicast v2 examples.
func encodeEvent(offset time.Duration, code, data string) ([]byte, error) {
	quotedData, err := marshalLine(data)
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, len(quotedData)+24)
	line = append(line, '[')
	line = strconv.AppendFloat(line, offset.Seconds(), 'f', 6, 64)
	line = append(line, ", \""...)
	line = append(line, code...)
	line = append(line, "\", "...)
	line = append(line, bytes.TrimSuffix(quotedData, []byte("\n"))...)
	line = append(line, "]\n"...)
	return line, nil
}

// marshalLine encodes v as one line of JSON ending in a newline. HTML
// escaping is off so that terminal output such as "<" stays readable.
func marshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func formatSize(cols, rows int) string {
	return strconv.Itoa(cols) + "x" + strconv.Itoa(rows)
}
