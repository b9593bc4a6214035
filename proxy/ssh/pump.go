package sshproxy

import (
	"io"
	"sync"
)

// Read sizes of the goroutines that copy channel data (stdin, stdout,
// stderr, forwards). A channel mostly waits, and a goroutine blocked in
// Read holds its buffer all that time, so it waits with a small buffer
// and borrows larger ones only while data keeps coming.
//
// A Read of an x/crypto channel (v0.59.0) sends the sender a window adjust,
// one more encrypted packet and write, once over three packets of the
// window are used and not yet returned. In a bulk transfer that is nearly
// every Read, so bulk reads use bulkReadSize, four packets per Read, and
// send about a quarter of the adjusts that reads of one packet would.
const (
	// idleReadSize is the buffer a copy holds while it waits for data.
	// It takes keystrokes, a typed line or a prompt in one read. Longer
	// output fills it, and the rest comes in the next read, into a
	// larger buffer. Three copies wait on each idle session channel, so
	// this size counts three times in an idle session's memory.
	idleReadSize = 512
	// packetReadSize is the largest data packet x/crypto accepts on a
	// channel (32 KiB). A read of this size takes one whole packet.
	packetReadSize = 32 << 10
	// bulkReadSize is the buffer of a copy whose reads keep coming back
	// full.
	bulkReadSize = 4 * packetReadSize
)

// readSizes are the buffer sizes of readBuffer, from small to large.
var readSizes = [...]int{idleReadSize, packetReadSize, bulkReadSize}

// readPools hold the borrowed buffers of copies that do not use them, one
// pool for each size above the small one.
var readPools = [len(readSizes)]*sync.Pool{
	1: {New: func() any { b := make([]byte, packetReadSize); return &b }},
	2: {New: func() any { b := make([]byte, bulkReadSize); return &b }},
}

// readBuffer is the read buffer of one copy goroutine. A read that fills
// its buffer means more data is waiting, so the next read uses the next
// larger size, borrowed from a pool. A short read that still took at least
// a packet's size means data may still be flowing, so the next read uses
// the packet size. A shorter read means the sender paused, and the next read, which
// may wait for a long time, uses the small buffer. So a copy waits on a
// borrowed buffer only right after a read that filled its buffer or took
// a whole packet.
type readBuffer struct {
	small    []byte
	level    int     // index in readSizes of the next read's buffer
	borrowed *[]byte // from readPools[level]; nil at level 0
}

func newReadBuffer() *readBuffer {
	return &readBuffer{small: make([]byte, idleReadSize)}
}

// next returns the buffer for the next read.
func (b *readBuffer) next() []byte {
	if b.borrowed != nil {
		return *b.borrowed
	}
	return b.small
}

// used takes the byte count of the last read, once its bytes are no longer
// needed, and picks the buffer of the next read.
func (b *readBuffer) used(n int) {
	level := b.level
	switch {
	case n == readSizes[level]:
		level = min(level+1, len(readSizes)-1)
	case n >= packetReadSize:
		level = 1
	default:
		level = 0
	}
	b.setLevel(level)
}

// setLevel returns the borrowed buffer when the level changes and borrows
// one of the new size.
func (b *readBuffer) setLevel(level int) {
	if level == b.level {
		return
	}
	b.release()
	b.level = level
	if level > 0 {
		b.borrowed = readPools[level].Get().(*[]byte)
	}
}

// release returns the borrowed buffer to its pool.
func (b *readBuffer) release() {
	if b.borrowed != nil {
		readPools[b.level].Put(b.borrowed)
		b.borrowed = nil
	}
	b.level = 0
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
