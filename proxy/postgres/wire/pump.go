package wire

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"syscall"
)

// Sink receives the bytes a Pump relays.
type Sink interface {
	// WriteFrames writes b, which starts at a message boundary or where
	// the previous call left off. atBoundary is false when b ends inside a
	// message that the next call continues, so nothing may be written
	// between the two calls.
	WriteFrames(b []byte, atBoundary bool) error
}

// Inspector receives each relayed message before it is written. body
// aliases the relay buffer and is valid only during the call. whole is
// false when body holds only the first bytes of a longer message (see
// Rules.Inspect).
type Inspector func(typ byte, body []byte, whole bool)

// DefaultBufferSize is the relay buffer per direction while bytes flow:
// large enough to batch many small messages into one write.
const DefaultBufferSize = 64 << 10

// IdleBufferSize is the buffer a pump reads into while its connection is
// quiet, when the connection is not a plain socket (see NewPump). A read
// that fills it moves the pump to a buffer of the full size from a shared
// pool. The pump returns that buffer once it has written everything and a
// read comes back shorter than IdleBufferSize. So an idle TLS connection
// holds IdleBufferSize per direction, not the full size.
const IdleBufferSize = 2 << 10

// bufferPool holds buffers of DefaultBufferSize for the pumps in flight.
var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, DefaultBufferSize)
	return &b
}}

// Pump relays messages from a reader to a Sink without changing them. It
// reads into a reused buffer, finds message boundaries in place, calls
// the inspector for each message, and writes every complete message of a
// read in one call. A message longer than the buffer, and not gathered for
// inspection, is streamed through in pieces, so memory stays bounded by
// the buffer whatever the message size.
type Pump struct {
	src     io.Reader
	raw     syscall.RawConn // src's socket when src is a plain one, else nil
	dst     Sink
	rules   *Rules
	inspect Inspector
	size    int    // the buffer size while bytes flow
	idle    []byte // the buffer while the connection is quiet
	buf     []byte // idle, a pooled buffer, or a larger one for a long message
	pooled  *[]byte

	// readFD bound to p, and the outcome of its last raw read.
	readFn    func(fd uintptr) bool
	readN     int
	readErrno syscall.Errno

	// parked, when set by a test, runs each time a pump reading a plain
	// socket finds no bytes and waits without a buffer.
	parked func()

	relayed int64 // bytes written to dst, for error offsets
	// clean is set when Run returned with every byte it read written and
	// not inside a message.
	clean bool
}

// Clean reports whether the last Run returned at a message boundary with
// nothing read and unwritten, so the source may be read again from there.
func (p *Pump) Clean() bool { return p.clean }

// NewPump returns a pump whose buffer grows to bufSize bytes (at least
// 4 KiB) while bytes flow. inspect may be nil.
//
// When src is a plain socket (a syscall.Conn, such as *net.TCPConn) and
// bufSize is DefaultBufferSize, the pump holds no buffer at all while the
// socket is quiet. It reads through the socket's syscall.RawConn and takes
// a pooled buffer only once bytes are ready. It gives the buffer back
// before it waits. Other sources, TLS connections among them, wait on the
// idle buffer.
func NewPump(src io.Reader, dst Sink, rules *Rules, inspect Inspector, bufSize int) *Pump {
	bufSize = max(bufSize, 4<<10)
	p := &Pump{src: src, dst: dst, rules: rules, inspect: inspect, size: bufSize}
	if sc, ok := src.(syscall.Conn); ok && bufSize == DefaultBufferSize {
		if raw, err := sc.SyscallConn(); err == nil {
			p.raw = raw
			p.readFn = p.readFD
			return p
		}
	}
	p.idle = make([]byte, min(IdleBufferSize, bufSize))
	p.buf = p.idle
	return p
}

// Run relays until the reader or the sink fails. It returns io.EOF when
// the reader ends at a message boundary and io.ErrUnexpectedEOF when it
// ends inside a message. An invalid type or length word returns
// *FrameError, after every message before it was relayed. A failing sink
// returns *WriteError, and other read errors are returned as they come.
func (p *Pump) Run() error {
	defer p.release()
	var (
		start, end int // buf[start:end] is read but not yet written
		skip       int64
		need       int  // bytes the message at start needs in the buffer
		filled     bool // the last read filled the idle buffer
	)
	for {
		switch {
		case need > len(p.buf) || filled:
			p.grow(max(need, p.size), start, end)
			end -= start
			start = 0
		case end == len(p.buf) && start > 0:
			end = copy(p.buf, p.buf[start:end])
			start = 0
		}
		var n int
		var readErr error
		if p.raw != nil && end == 0 {
			n, readErr = p.readRaw()
		} else {
			n, readErr = p.src.Read(p.buf[end:])
		}
		filled = n > 0 && n == len(p.buf)-end && len(p.buf) < p.size
		end += n

		pos, frameErr := p.scan(start, end, &skip, &need)
		if pos > start {
			if err := p.dst.WriteFrames(p.buf[start:pos], skip == 0); err != nil {
				return &WriteError{Err: err}
			}
			p.relayed += int64(pos - start)
			start = pos
		}
		if start == end {
			start, end = 0, 0
			if p.raw == nil && n < len(p.idle) && len(p.buf) > len(p.idle) {
				p.release()
			}
		} else if start > 0 && need > len(p.buf)-start {
			end = copy(p.buf, p.buf[start:end])
			start = 0
		}
		if frameErr != nil {
			return frameErr
		}
		if readErr != nil {
			if errors.Is(readErr, io.EOF) && (skip > 0 || end > start) {
				return io.ErrUnexpectedEOF
			}
			p.clean = skip == 0 && end == start
			return readErr
		}
	}
}

// readRaw reads the socket when the pump holds no unread bytes. It takes
// the pooled buffer only when the read finds bytes, and returns it before
// it waits for more, so a quiet connection costs no buffer. The reads are
// the ones net.Conn.Read would make: one that finds nothing, then one
// after the socket is ready.
func (p *Pump) readRaw() (int, error) {
	p.readN, p.readErrno = 0, 0
	err := p.raw.Read(p.readFn)
	return readResult(p.readN, p.readErrno, err)
}

// readFD is readRaw's callback of RawConn.Read. It is bound once, in
// NewPump, and leaves its results in the pump, so a read allocates
// nothing.
func (p *Pump) readFD(fd uintptr) bool {
	if p.pooled == nil {
		p.take()
	}
	p.readN, p.readErrno = rawRead(fd, p.buf)
	if p.readErrno == syscall.EAGAIN {
		p.release()
		if p.parked != nil {
			p.parked()
		}
		return false
	}
	return true
}

// take moves the pump to a pooled buffer of DefaultBufferSize. The pump
// must hold no unwritten bytes.
func (p *Pump) take() {
	p.pooled = bufferPool.Get().(*[]byte)
	p.buf = *p.pooled
}

// scan walks the messages in buf[pos:end], inspecting complete ones, and
// returns how far the bytes may be written. It sets *skip to the bytes of
// a streamed message still to come, and *need to the buffer length the
// next incomplete message requires.
func (p *Pump) scan(pos, end int, skip *int64, need *int) (int, error) {
	*need = 0
	for pos < end {
		if *skip > 0 {
			k := int(min(*skip, int64(end-pos)))
			pos += k
			*skip -= int64(k)
			continue
		}
		if end-pos < 5 {
			*need = 5
			return pos, nil
		}
		typ := p.buf[pos]
		length := int64(binary.BigEndian.Uint32(p.buf[pos+1 : pos+5]))
		if err := p.check(typ, length, pos); err != nil {
			return pos, err
		}
		total := 1 + length
		avail := int64(end - pos)
		if avail >= total {
			if p.inspect != nil {
				p.inspect(typ, p.buf[pos+5:pos+int(total)], true)
			}
			pos += int(total)
			continue
		}
		gather := min(int64(p.rules.Inspect[typ]), length-4)
		if total <= int64(p.size) || avail < 5+gather {
			// Wait for the whole message when it fits the full-size
			// buffer, or for the part the inspector wants.
			*need = int(min(total, max(5+gather, int64(p.size))))
			return pos, nil
		}
		if p.inspect != nil {
			p.inspect(typ, p.buf[pos+5:pos+5+int(gather)], false)
		}
		*skip = total - avail
		pos = end
	}
	return pos, nil
}

func (p *Pump) check(typ byte, length int64, pos int) error {
	maxLen := p.rules.MaxLen[typ]
	switch {
	case maxLen == 0:
		return &FrameError{Type: typ, Length: length, Offset: p.relayed + int64(pos), Reason: "unknown message type"}
	case length < 4:
		return &FrameError{Type: typ, Length: length, Offset: p.relayed + int64(pos), Reason: "length word below 4"}
	case length > maxLen:
		return &FrameError{Type: typ, Length: length, Offset: p.relayed + int64(pos), Reason: "longer than the limit for this type"}
	}
	return nil
}

// grow replaces the buffer with one of at least size bytes, moving the
// unwritten bytes buf[start:end] to its front. When the pump's size is
// DefaultBufferSize, that buffer comes from the shared pool.
func (p *Pump) grow(size, start, end int) {
	var buf []byte
	var pooled *[]byte
	switch {
	case size <= p.size && p.size == DefaultBufferSize:
		pooled = bufferPool.Get().(*[]byte)
		buf = *pooled
	case size <= p.size:
		buf = make([]byte, p.size)
	default:
		n := p.size
		for n < size {
			n *= 2
		}
		buf = make([]byte, n)
	}
	copy(buf, p.buf[start:end])
	p.release()
	p.buf, p.pooled = buf, pooled
}

// release goes back to the idle buffer and returns a pooled one. The
// caller must have written what the buffer held.
func (p *Pump) release() {
	if p.pooled != nil {
		bufferPool.Put(p.pooled)
		p.pooled = nil
	}
	p.buf = p.idle
}
