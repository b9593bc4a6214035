package postgres

import (
	"io"
	"sync"
	"time"
)

// Batching of the query log. A statement's line reaches the file at most
// queryLogFlushDelay after the statement ends, or sooner when
// queryLogFlushBytes are waiting, and the rest at the session's end. One
// write per statement was about 7% of the relay's CPU under pgbench -S.
const (
	queryLogFlushDelay = 100 * time.Millisecond
	queryLogFlushBytes = 32 << 10
	// queryLogKeepBytes is the largest buffer kept between two batches of a
	// busy session; an idle session keeps none.
	queryLogKeepBytes = 64 << 10
)

// logWriter batches the writes of a query log in memory. A timer writes
// what is waiting after the delay, and an idle session holds no buffer.
// Errors are sticky: after the first failed write, every call returns it.
type logWriter struct {
	dst     io.Writer
	delay   time.Duration
	limit   int
	onError func(error) // called once, for a failure of a timed write

	// mu guards the fields below and is held during each write to dst.
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer
	armed bool
	err   error
}

func newLogWriter(dst io.Writer, delay time.Duration, limit int) *logWriter {
	return &logWriter{dst: dst, delay: delay, limit: limit}
}

// Write appends p to the batch, and writes the batch when it reaches the
// limit.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.limit {
		if err := w.writeLocked(); err != nil {
			return 0, err
		}
		if cap(w.buf) > queryLogKeepBytes {
			w.buf = nil
		}
		return len(p), nil
	}
	if !w.armed {
		w.armed = true
		if w.timer == nil {
			w.timer = time.AfterFunc(w.delay, w.timed)
		} else {
			w.timer.Reset(w.delay)
		}
	}
	return len(p), nil
}

// setOnError sets the function called when a timed write fails.
func (w *logWriter) setOnError(f func(error)) {
	w.mu.Lock()
	w.onError = f
	w.mu.Unlock()
}

// Flush writes the batch now.
func (w *logWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLocked()
}

// Close writes the batch and stops the timer. Later writes fail.
func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.writeLocked()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.armed = true // no timer is armed again
	if w.err == nil {
		w.err = io.ErrClosedPipe
	}
	w.buf = nil
	return err
}

// timed runs on the timer and writes the batch. After a batch it keeps
// the buffer for the writes still coming, and runs once more after the
// delay. When it finds nothing to write, the session has gone quiet and
// it drops the buffer. A busy session so reuses one buffer rather than
// allocating one per batch, and a quiet one holds none after two delays.
func (w *logWriter) timed() {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	wrote := len(w.buf) > 0
	err := w.writeLocked()
	if wrote && err == nil && cap(w.buf) <= queryLogKeepBytes {
		w.timer.Reset(w.delay) // still armed
	} else {
		w.armed = false
		w.buf = nil
	}
	onError := w.onError
	w.mu.Unlock()
	if err != nil && onError != nil {
		onError(err)
	}
}

func (w *logWriter) writeLocked() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.dst.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}
