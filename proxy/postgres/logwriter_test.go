package postgres

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the timer's goroutine, which
// counts the writes it receives.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	fail   error
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return 0, b.fail
	}
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

func TestLogWriterBatchesBySize(t *testing.T) {
	dst := &lockedBuffer{}
	w := newLogWriter(dst, time.Hour, 10)
	for _, line := range []string{"abcd\n", "efgh\n", "ij\n"} {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	got, writes := dst.snapshot()
	if got != "abcd\nefgh\n" {
		t.Errorf("file = %q after 10 bytes, want the first two lines", got)
	}
	if writes != 1 {
		t.Errorf("writes = %d, want 1 for the first batch", writes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := dst.snapshot(); got != "abcd\nefgh\nij\n" {
		t.Errorf("file = %q after Close, want all three lines", got)
	}
	if _, err := w.Write([]byte("late\n")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestLogWriterFlushesAfterDelay(t *testing.T) {
	dst := &lockedBuffer{}
	w := newLogWriter(dst, 5*time.Millisecond, 1<<20)
	defer w.Close()
	w.Write([]byte("one\n"))
	w.Write([]byte("two\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, writes := dst.snapshot()
		if got == "one\ntwo\n" {
			if writes != 1 {
				t.Errorf("writes = %d, want both lines in one", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("file = %q 5 s after the writes, want both lines", got)
		}
		time.Sleep(time.Millisecond)
	}
	// With no more writes, the next timed run finds nothing and drops
	// the buffer.
	for {
		w.mu.Lock()
		bufCap := cap(w.buf)
		w.mu.Unlock()
		if bufCap == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("buffer of %d bytes still kept 5 s after the last write, want none", bufCap)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLogWriterKeepsBufferWhileBusy runs the timer's function by hand: a
// timed write keeps the buffer for the next batch and stays armed, and a
// timed run with nothing to write drops the buffer.
func TestLogWriterKeepsBufferWhileBusy(t *testing.T) {
	dst := &lockedBuffer{}
	w := newLogWriter(dst, time.Hour, 1<<20)
	defer w.Close()
	w.Write([]byte("one\n"))
	w.timed()
	w.mu.Lock()
	bufCap, armed := cap(w.buf), w.armed
	w.mu.Unlock()
	if bufCap == 0 || !armed {
		t.Fatalf("after a timed write: buffer of %d bytes, armed %v; want the buffer kept and the timer armed", bufCap, armed)
	}
	w.Write([]byte("two\n"))
	w.timed()
	if got, writes := dst.snapshot(); got != "one\ntwo\n" || writes != 2 {
		t.Fatalf("file = %q in %d writes, want both lines in 2", got, writes)
	}
	w.timed() // nothing was written since
	w.mu.Lock()
	bufCap, armed = cap(w.buf), w.armed
	w.mu.Unlock()
	if bufCap != 0 || armed {
		t.Fatalf("after a quiet delay: buffer of %d bytes, armed %v; want no buffer and no timer", bufCap, armed)
	}
	w.Write([]byte("three\n"))
	w.mu.Lock()
	armed = w.armed
	w.mu.Unlock()
	if !armed {
		t.Error("a write after the quiet delay did not arm the timer")
	}
}

func TestLogWriterReportsTimedFailure(t *testing.T) {
	diskFull := errors.New("no space left on device")
	dst := &lockedBuffer{fail: diskFull}
	w := newLogWriter(dst, time.Millisecond, 1<<20)
	failed := make(chan error, 1)
	w.setOnError(func(err error) { failed <- err })
	w.Write([]byte("one\n"))
	select {
	case err := <-failed:
		if !errors.Is(err, diskFull) {
			t.Errorf("error = %v, want %v", err, diskFull)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the failed timed write was not reported")
	}
	if _, err := w.Write([]byte("two\n")); !errors.Is(err, diskFull) {
		t.Errorf("Write after a failure = %v, want the same error", err)
	}
}
