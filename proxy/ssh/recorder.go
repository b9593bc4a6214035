package sshproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/recordings"
)

// maxRedactLine bounds the input collected into one line before
// redaction; a longer line is redacted and recorded in parts.
const maxRedactLine = 4 << 10

// streamRecordingCap bounds the recording file of a channel without a
// terminal, which may carry bulk data (ssh host 'cat file', a backup piped
// through ssh). Once the file reaches the cap, later output is only
// counted, and the recording.sealed audit event records how many bytes
// were left out. The event that crosses the cap is written whole, so the
// file can pass the cap by one read (bulkReadSize, up to six times that
// once escaped).
//
// The cap counts file bytes rather than output bytes, because the file is
// what costs CPU. JSON turns a zero byte into six (\u0000), and a cap of
// 16 MiB of output made a 96 MiB file, whose encoding, write and hash took
// a tenth of jitgate's CPU in a 1 GiB download. The bytes past the cap are
// not hashed either. Their SHA-256 cost 0.6 s of CPU per GiB, and only
// someone holding the exact byte stream (stdout, stderr and jitgate's own
// lines in arrival order) could check it. docs/recordings.md explains this
// to operators.
const streamRecordingCap = 16 << 20

// recordingMeta is the header of a channel's recording and its terms.
type recordingMeta struct {
	header   recordings.CastHeader
	input    bool // record what the person types
	transfer bool // a file transfer: record the header only
	redactor *recordings.Redactor
	// fileCap stops recording output once the file holds this many
	// bytes; 0 records all of it.
	fileCap int64
}

// channelRecorder writes the asciicast v2 recording of one session
// channel through package recordings, one event per write, so the file
// grows as the session runs. Lines the front door shows before the file
// exists (the hold) are kept and written first with their own times.
// Its methods are safe for concurrent use; a nil *channelRecorder records
// nothing.
type channelRecorder struct {
	clock clock.Clock
	log   *slog.Logger

	// mu guards the fields below.
	mu        sync.Mutex
	cast      *recordings.Cast
	file      *recordings.File
	size      *countingWriter // counts the bytes written to file
	held      []heldEvent
	heldBytes int
	stopped   bool  // no recording for this channel, or it failed
	writeErr  error // the write error that stopped the recording
	meta      recordingMeta
	line      []byte // input collected for redaction
	outBytes  int64  // output bytes seen after start, recorded or not
	// unrecordedBytes counts the output bytes seen after start that are
	// not in the file: past fileCap, of a file transfer, or after a write
	// error.
	unrecordedBytes int64
	capped          bool // fileCap was reached
}

// countingWriter counts the bytes written through it. Cast writes through
// it only under the recorder's mu.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// heldEvent is an output or marker event from before the file existed.
type heldEvent struct {
	at     time.Time
	marker bool
	data   string
}

func newChannelRecorder(clk clock.Clock, log *slog.Logger) *channelRecorder {
	return &channelRecorder{clock: clk, log: log}
}

// start creates the recording file and writes the held events.
func (r *channelRecorder) start(store RecordingStore, sessionID int64, channel int, meta recordingMeta) error {
	file, err := store.Create(recordings.KindSSH, sessionID, channel, "cast")
	if err != nil {
		return err
	}
	size := &countingWriter{w: file}
	cast, err := recordings.NewCast(size, meta.header)
	if err != nil {
		_, _, sealErr := file.Seal()
		return errors.Join(err, sealErr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.file, r.cast, r.meta, r.size = file, cast, meta, size
	for _, e := range r.held {
		if e.marker {
			r.check(cast.Marker(e.at, e.data))
			continue
		}
		r.check(cast.Output(e.at, []byte(e.data)))
	}
	r.held, r.heldBytes = nil, 0
	if meta.transfer {
		r.check(cast.Marker(r.clock.Now(), "file transfer: its data is not recorded"))
	}
	return nil
}

// stop drops held events and records nothing more, for channels whose
// contract records nothing.
func (r *channelRecorder) stop() {
	r.mu.Lock()
	r.stopped, r.held = true, nil
	r.mu.Unlock()
}

// output records bytes the terminal showed.
func (r *channelRecorder) output(data []byte) {
	r.event(false, data)
}

// marker records a named point such as a warning.
func (r *channelRecorder) marker(label string) {
	r.event(true, []byte(label))
}

func (r *channelRecorder) event(marker bool, data []byte) {
	if r == nil {
		return
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.cast == nil && !r.stopped:
		if r.heldBytes+len(data) <= maxHeldRecordingBytes {
			r.held = append(r.held, heldEvent{at: now, marker: marker, data: string(data)})
			r.heldBytes += len(data)
		}
	case r.cast == nil:
		// The contract records nothing for this channel.
	case marker:
		if !r.stopped {
			r.check(r.cast.Marker(now, string(data)))
		}
	default:
		r.outputLocked(now, data)
	}
}

// outputLocked counts output, and records it until the file reaches
// fileCap.
func (r *channelRecorder) outputLocked(now time.Time, data []byte) {
	r.outBytes += int64(len(data))
	if !r.capped && !r.stopped && !r.meta.transfer && r.meta.fileCap > 0 && r.size.n >= r.meta.fileCap {
		r.capped = true
		r.check(r.cast.Marker(now, fmt.Sprintf("output from here on is not recorded: the recording reached its %d MiB limit for a session without a terminal; the recording.sealed audit event counts the bytes left out", r.meta.fileCap>>20)))
	}
	if r.capped || r.stopped || r.meta.transfer {
		r.unrecordedBytes += int64(len(data))
		return
	}
	if err := r.cast.Output(now, data); err != nil {
		r.check(err)
		r.unrecordedBytes += int64(len(data))
	}
}

// outputCounts returns how many output bytes the channel carried after
// its recording started and how many of them the file leaves out, or
// ok false when there is no recording.
func (r *channelRecorder) outputCounts() (total, unrecorded int64, ok bool) {
	if r == nil {
		return 0, 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return 0, 0, false
	}
	return r.outBytes, r.unrecordedBytes, true
}

// input records bytes the person typed, when the contract requires it.
// With redaction patterns, input is collected into lines first, because a
// pattern cannot match a secret that arrives one keystroke at a time.
func (r *channelRecorder) input(data []byte) {
	if r == nil {
		return
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.cast == nil || !r.meta.input || r.meta.transfer {
		return
	}
	if r.meta.redactor == nil {
		r.check(r.cast.Input(now, data))
		return
	}
	r.line = append(r.line, data...)
	for {
		end := bytes.IndexAny(r.line, "\r\n")
		if end < 0 && len(r.line) < maxRedactLine {
			return
		}
		if end < 0 {
			end = len(r.line) - 1
		}
		r.writeRedactedLocked(now, r.line[:end+1])
		r.line = r.line[end+1:]
	}
}

func (r *channelRecorder) writeRedactedLocked(at time.Time, line []byte) {
	r.check(r.cast.Input(at, []byte(r.meta.redactor.Redact(string(line)))))
}

// resize records a terminal size change; sizes of 0 are not recorded,
// because asciicast has no way to write them.
func (r *channelRecorder) resize(cols, rows uint32) {
	if r == nil || cols == 0 || rows == 0 || cols > 1<<16 || rows > 1<<16 {
		return
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.cast == nil {
		return
	}
	r.check(r.cast.Resize(now, int(cols), int(rows)))
}

// seal finishes the file and returns its path and SHA-256, or empty
// strings when nothing was recorded.
func (r *channelRecorder) seal() (path, hash string, err error) {
	if r == nil {
		return "", "", nil
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return "", "", nil
	}
	var errs []error
	if len(r.line) > 0 && !r.stopped {
		r.writeRedactedLocked(now, r.line)
		r.line = nil
	}
	if err := r.cast.Close(now); err != nil && !errors.Is(err, recordings.ErrClosed) {
		errs = append(errs, err)
	}
	path, hash, err = r.file.Seal()
	errs = append(errs, r.writeErr, err)
	r.stopped = true
	return path, hash, errors.Join(errs...)
}

// check logs the first write error and stops the recording, so a full
// disk costs one log line, not one per event.
//
// NOTE: the session goes on without a recording after a write error. The
// error is in the log, and seal returns it for the recording.sealed event.
func (r *channelRecorder) check(err error) {
	if err == nil || r.stopped {
		return
	}
	r.stopped, r.writeErr = true, err
	r.log.Error("writing the session recording failed; recording stopped", "err", err)
}
