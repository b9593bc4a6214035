package recordings

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidCast is wrapped by every error that Parse and Replay return
// for a file that is not valid asciicast v2.
var ErrInvalidCast = errors.New("recordings: invalid asciicast file")

// maxCastLine bounds one line of an asciicast file. Cast writes one line
// per read from the SSH channel (32 KiB by default in x/crypto/ssh), which
// JSON escaping can grow at most sixfold, so 16 MiB leaves a wide margin.
const maxCastLine = 16 << 20

// Event is one asciicast event.
type Event struct {
	// Time is the offset from the start of the recording.
	Time time.Duration
	// Code is CodeOutput, CodeInput, CodeResize or CodeMarker.
	Code string
	Data string
}

// Parse reads a whole asciicast v2 file and checks it: a header with
// version 2 and a positive size, then events whose times never decrease,
// with a known code and, for resize events, data of the form COLSxROWS.
// The header's Start is Timestamp in whole seconds.
func Parse(r io.Reader) (*CastHeader, []Event, error) {
	dec, header, err := newCastDecoder(r)
	if err != nil {
		return nil, nil, err
	}
	var events []Event
	for {
		ev, err := dec.next()
		if errors.Is(err, io.EOF) {
			return header, events, nil
		}
		if err != nil {
			return nil, nil, err
		}
		events = append(events, ev)
	}
}

// castDecoder reads an asciicast file one event at a time, so Replay can
// play a long recording without holding it in memory.
type castDecoder struct {
	scanner *bufio.Scanner
	line    int
	last    time.Duration
}

func newCastDecoder(r io.Reader) (*castDecoder, *CastHeader, error) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64<<10), maxCastLine)
	dec := &castDecoder{scanner: scanner}

	raw, err := dec.scan()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%w: the file is empty, but the first line must be the header", ErrInvalidCast)
	}
	if err != nil {
		return nil, nil, err
	}
	header, err := decodeCastHeader(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: line 1: %w", ErrInvalidCast, err)
	}
	return dec, header, nil
}

func decodeCastHeader(raw []byte) (*CastHeader, error) {
	var header CastHeader
	if err := json.Unmarshal(raw, &header); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	if header.Version != castVersion {
		return nil, fmt.Errorf("header version is %d, but this reader supports only version %d", header.Version, castVersion)
	}
	if header.Width <= 0 || header.Height <= 0 {
		return nil, fmt.Errorf("header size %dx%d is invalid: width and height must be positive", header.Width, header.Height)
	}
	if header.Timestamp != 0 {
		header.Start = time.Unix(header.Timestamp, 0)
	}
	return &header, nil
}

// scan returns the next line, or io.EOF after the last one.
func (d *castDecoder) scan() ([]byte, error) {
	if !d.scanner.Scan() {
		if err := d.scanner.Err(); err != nil {
			return nil, fmt.Errorf("%w: after line %d: %w", ErrInvalidCast, d.line, err)
		}
		return nil, io.EOF
	}
	d.line++
	return d.scanner.Bytes(), nil
}

// next returns the next event, or io.EOF after the last one.
func (d *castDecoder) next() (Event, error) {
	raw, err := d.scan()
	if err != nil {
		return Event{}, err
	}
	ev, err := decodeEvent(raw)
	if err != nil {
		return Event{}, fmt.Errorf("%w: line %d: %w", ErrInvalidCast, d.line, err)
	}
	if ev.Time < d.last {
		return Event{}, fmt.Errorf("%w: line %d: time %v is before the previous event's %v", ErrInvalidCast, d.line, ev.Time, d.last)
	}
	d.last = ev.Time
	return ev, nil
}

func decodeEvent(raw []byte) (Event, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return Event{}, errors.New("empty line")
	}
	var fields []json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Event{}, fmt.Errorf("event is not a JSON array: %w", err)
	}
	if len(fields) != 3 {
		return Event{}, fmt.Errorf("event has %d elements, but must have 3: [time, code, data]", len(fields))
	}

	var ev Event
	var seconds float64
	if err := json.Unmarshal(fields[0], &seconds); err != nil {
		return Event{}, fmt.Errorf("event time is not a number: %w", err)
	}
	if seconds < 0 || math.IsNaN(seconds) || seconds > math.MaxInt64/float64(time.Second) {
		return Event{}, fmt.Errorf("event time %v is out of range", seconds)
	}
	ev.Time = time.Duration(math.Round(seconds*float64(time.Second)/float64(castTimeResolution))) * castTimeResolution

	if err := json.Unmarshal(fields[1], &ev.Code); err != nil {
		return Event{}, fmt.Errorf("event code is not a string: %w", err)
	}
	if err := json.Unmarshal(fields[2], &ev.Data); err != nil {
		return Event{}, fmt.Errorf("event data is not a string: %w", err)
	}
	if err := checkEventData(ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}

func checkEventData(ev Event) error {
	switch ev.Code {
	case CodeOutput, CodeInput, CodeMarker:
		return nil
	case CodeResize:
		_, _, err := parseSize(ev.Data)
		return err
	default:
		return fmt.Errorf("event code %q is unknown: expected %q, %q, %q or %q", ev.Code, CodeOutput, CodeInput, CodeResize, CodeMarker)
	}
}

// parseSize parses resize data "COLSxROWS".
func parseSize(data string) (cols, rows int, err error) {
	colsText, rowsText, found := strings.Cut(data, "x")
	if found {
		cols, err = strconv.Atoi(colsText)
	}
	if found && err == nil {
		rows, err = strconv.Atoi(rowsText)
	}
	if !found || err != nil || cols <= 0 || rows <= 0 {
		return 0, 0, fmt.Errorf("resize data %q is invalid: expected COLSxROWS with positive numbers", data)
	}
	return cols, rows, nil
}
