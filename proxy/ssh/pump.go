package sshproxy

import (
	"io"
	"sync"
)

// Read sizes of the goroutines that copy channel data (stdin, stdout,
// stderr, forwards). A channel mostly waits, and a goroutine blocked in
// Read holds its buffer all that time, so it waits with a small buffer
// and borrows a large one only while data keeps coming.
const (
	// idleReadSize is the buffer a copy holds while it waits for data.
	// It takes keystrokes, a typed line or a prompt in one read. Longer
	// output fills it, and the rest comes in the next read, into the large
	// buffer. Three copies wait on each idle session channel, so this size
	// counts three times in an idle session's memory.
	idleReadSize = 512
	// busyReadSize is the buffer a copy borrows while reads come back
	// full: the largest data packet x/crypto accepts on a channel (32 KiB),
	// so one read takes one whole packet of a bulk transfer.
	busyReadSize = 32 << 10
)

// busyBuffers holds the busyReadSize buffers of copies that are idle.
var busyBuffers = sync.Pool{New: func() any {
	b := make([]byte, busyReadSize)
	return &b
}}

// readBuffer is the read buffer of one copy goroutine. A read that fills
// the small buffer means more data is waiting, so the next read uses a
// pooled large buffer. A read that comes back short means the sender
// paused, so the large buffer goes back to the pool before the next read,
// which may wait for a long time.
type readBuffer struct {
	small []byte
	busy  *[]byte // borrowed from busyBuffers; nil while idle
}

func newReadBuffer() *readBuffer {
	return &readBuffer{small: make([]byte, idleReadSize)}
}

// next returns the buffer for the next read.
func (b *readBuffer) next() []byte {
	if b.busy != nil {
		return *b.busy
	}
	return b.small
}

// used takes the byte count of the last read, once its bytes are no longer
// needed, and picks the buffer of the next read.
func (b *readBuffer) used(n int) {
	switch {
	case b.busy == nil && n == len(b.small):
		b.busy = busyBuffers.Get().(*[]byte)
	case b.busy != nil && n < len(*b.busy):
		b.release()
	}
}

// release returns the large buffer to the pool.
func (b *readBuffer) release() {
	if b.busy != nil {
		busyBuffers.Put(b.busy)
		b.busy = nil
	}
}

// pump reads src until it fails and hands each chunk to use, which must
// not keep the slice. It returns the read error (io.EOF at the end of the
// stream), or the first error of use.
func pump(src io.Reader, use func([]byte) error) error {
	buf := newReadBuffer()
	defer buf.release()
	for {
		p := buf.next()
		n, err := src.Read(p)
		if n > 0 {
			if err := use(p[:n]); err != nil {
				return err
			}
		}
		buf.used(n)
		if err != nil {
			return err
		}
	}
}

// copyChannel copies src to dst like io.Copy, with pump's buffers.
func copyChannel(dst io.Writer, src io.Reader) {
	_ = pump(src, func(p []byte) error {
		_, err := dst.Write(p)
		return err
	})
}
