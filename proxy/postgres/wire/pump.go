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
	inq     *inqReader      // raw's reader with TCP_INQ, or nil
	dst     Sink
	rules   *Rules
	inspect Inspector
	size    int    // the buffer size while bytes flow
	idle    []byte // the buffer while the connection is quiet
	buf     []byte // idle, a pooled buffer, or a larger one for a long message
	pooled  *[]byte

	// parked, when set by a test, runs each time a pump reading a plain
	// socket waits for bytes without a buffer. empty is set when the read
	// just before found nothing.
	parked func(empty bool)

	// Run's position. buf[start:end] is read but not yet written. skip
	// counts the bytes of a streamed message still to come. need is the
	// buffer length that the message at start requires. filled is set
	// when the last read filled the idle buffer.
	start, end int
	skip       int64
	need       int
	filled     bool

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
			p.inq = newInqReader(raw)
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
	p.start, p.end, p.skip, p.need, p.filled = 0, 0, 0, 0, false
	for {
		p.prepare()
		if p.raw != nil && p.end == 0 {
			if stop, err := p.relayRaw(); stop {
				return err
			}
			continue
		}
		n, readErr := p.src.Read(p.buf[p.end:])
		if stop, err := p.advance(n, readErr); stop {
			return err
		}
	}
}

// prepare makes room in the buffer for the next read: it grows the buffer
// for a message that needs more, or after a read filled the idle buffer,
// and moves the unwritten bytes to the front of a full buffer.
func (p *Pump) prepare() {
	switch {
	case p.need > len(p.buf) || p.filled:
		p.grow(max(p.need, p.size), p.start, p.end)
		p.end -= p.start
		p.start = 0
	case p.end == len(p.buf) && p.start > 0:
		p.end = copy(p.buf, p.buf[p.start:p.end])
		p.start = 0
	}
}

// advance relays what a read of n bytes brought and reports whether Run
// must stop, and with which error.
func (p *Pump) advance(n int, readErr error) (bool, error) {
	p.filled = n > 0 && n == len(p.buf)-p.end && len(p.buf) < p.size
	p.end += n

	pos, frameErr := p.scan(p.start, p.end, &p.skip, &p.need)
	if pos > p.start {
		if err := p.dst.WriteFrames(p.buf[p.start:pos], p.skip == 0); err != nil {
			return true, &WriteError{Err: err}
		}
		p.relayed += int64(pos - p.start)
		p.start = pos
	}
	if p.start == p.end {
		p.start, p.end = 0, 0
		if p.raw == nil && n < len(p.idle) && len(p.buf) > len(p.idle) {
			p.release()
		}
	} else if p.start > 0 && p.need > len(p.buf)-p.start {
		p.end = copy(p.buf, p.buf[p.start:p.end])
		p.start = 0
	}
	if frameErr != nil {
		return true, frameErr
	}
	if readErr != nil {
		if errors.Is(readErr, io.EOF) && (p.skip > 0 || p.end > p.start) {
			return true, io.ErrUnexpectedEOF
		}
		p.clean = p.skip == 0 && p.end == p.start
		return true, readErr
	}
	return false, nil
}

// relayRaw reads and relays a plain socket while the pump holds no unread
// bytes, taking the pooled buffer only when a read finds bytes and giving
// it back before it waits, so a quiet connection costs no buffer.
//
// net.Conn.Read makes one read(2) that finds nothing before each wait,
// because each call first clears the readiness that the runtime noted
// (poll_runtime_pollReset). Each new RawConn.Read does the same. relayRaw
// skips that read when TCP_INQ reports that a read left the socket empty
// and without a FIN. It then waits in the same RawConn.Read, where the
// noted readiness still counts, and bytes that arrive later raise a new
// edge that wakes the wait. So a request and its reply cost one read each.
//
// A read that leaves bytes or part of a message returns to Run, and the
// next call checks the deadline before it reads again.
//
// NOTE: TCP_INQ counts a FIN but not a reset (RST). A reset that arrives
// in the same wake-up as the last bytes goes unseen, and the pump waits
// on. On the client side the relay then ends when the reply to those
// bytes fails to reach the client, or at the idle timeout, the window end
// or a revoke. A client's Terminate still ends the pump at once.
func (p *Pump) relayRaw() (bool, error) {
	var (
		stop bool
		err  error
	)
	rawErr := p.raw.Read(func(fd uintptr) bool {
		if p.pooled == nil {
			p.take()
		}
		var (
			n, inq int
			errno  syscall.Errno
		)
		if p.inq != nil {
			n, inq, errno = p.inq.read(fd, p.buf[p.end:])
		} else {
			n, errno = rawRead(fd, p.buf[p.end:])
			inq = -1
		}
		if errno == syscall.EAGAIN {
			p.wait(true)
			return false
		}
		stop, err = p.advance(readResult(n, errno, nil))
		if stop || inq != 0 || p.end > 0 {
			return true
		}
		p.wait(false)
		return false
	})
	if rawErr != nil && !stop {
		return p.advance(0, rawErr)
	}
	return stop, err
}

// wait gives back the pooled buffer before the pump waits for bytes.
// empty is set when the last read found nothing.
func (p *Pump) wait(empty bool) {
	p.release()
	if p.parked != nil {
		p.parked(empty)
	}
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
