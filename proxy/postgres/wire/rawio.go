package wire

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// The relay reads and writes plain sockets with syscall.RawSyscall, and a
// TLS client's socket too, through socketConn under the TLS layer.
//
// syscall.Syscall marks the thread as possibly blocked. When every P is
// idle, that wakes the runtime's monitor thread (sysmon). In a pgbench run
// with one client, a perf profile put those wake-ups at about a quarter of
// the relay's CPU. A non-blocking socket call returns at once, so the
// runtime needs no notice of it, and the netpoller still does the waiting.
//
// NOTE: syscall.RawSyscall is invisible to the race detector, so -race no
// longer checks the kernel's reads and writes of the relay's buffers.

// rawRead reads fd, which must be non-blocking, into b.
func rawRead(fd uintptr, b []byte) (int, syscall.Errno) { return rawIO(syscall.SYS_READ, fd, b) }

// rawWrite writes b to fd, which must be non-blocking, once.
func rawWrite(fd uintptr, b []byte) (int, syscall.Errno) { return rawIO(syscall.SYS_WRITE, fd, b) }

// rawIO makes the read or write system call trap on fd and b, and makes it
// again when a signal interrupted it.
func rawIO(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch errno {
		case 0:
			return int(n), 0
		case syscall.EINTR:
			continue
		}
		return 0, errno
	}
}

// socketWriter writes a plain socket through its syscall.RawConn. Calls
// to Write must not overlap: the callback it gives RawConn.Write is bound
// once and keeps the state of the write in progress in the writer, so a
// write allocates nothing.
type socketWriter struct {
	raw     syscall.RawConn
	writeFn func(fd uintptr) bool // writeFD bound to the writer

	// The write in progress: the caller's bytes, the count written and
	// the error number that stopped it.
	buf     []byte
	written int
	errno   syscall.Errno
}

// newSocketWriter returns a writer of raw with its callback bound.
func newSocketWriter(raw syscall.RawConn) *socketWriter {
	w := &socketWriter{raw: raw}
	w.writeFn = w.writeFD
	return w
}

// NewSocketWriter returns a writer of conn that writes a plain socket (a
// syscall.Conn, such as *net.TCPConn) with raw system calls, and conn
// itself for any other connection, TLS among them. The writer honours
// conn's write deadline and returns the same errors for a deadline and a
// closed connection as conn.Write. Unlike conn, the writer takes one call
// to Write at a time.
func NewSocketWriter(conn net.Conn) io.Writer {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return conn
	}
	return newSocketWriter(raw)
}

// Write writes all of b, waiting for the socket to take more when its
// buffer is full.
func (w *socketWriter) Write(b []byte) (int, error) {
	w.buf, w.written, w.errno = b, 0, 0
	err := w.raw.Write(w.writeFn)
	written, errno := w.written, w.errno
	w.buf = nil // keep no reference to the caller's buffer
	switch {
	case err != nil:
		return written, err
	case errno != 0:
		return written, os.NewSyscallError("write", errno)
	}
	return written, nil
}

// writeFD is Write's callback of RawConn.Write.
func (w *socketWriter) writeFD(fd uintptr) bool {
	for w.written < len(w.buf) {
		n, errno := rawWrite(fd, w.buf[w.written:])
		switch {
		case errno == syscall.EAGAIN:
			return false
		case errno != 0:
			w.errno = errno
			return true
		}
		w.written += n
	}
	return true
}

// socketConn is a TCP connection whose Read and Write make raw system
// calls, for a TLS layer above it. crypto/tls reads and writes its
// connection itself, so without socketConn a TLS leg would make every
// call through syscall.Syscall.
type socketConn struct {
	*net.TCPConn
	raw    syscall.RawConn
	writer *socketWriter

	// readFn is readFD bound to the connection, and the other fields
	// hold the read in progress. crypto/tls makes one Read at a time.
	readFn    func(fd uintptr) bool
	readBuf   []byte
	readN     int
	readErrno syscall.Errno
}

// RawSocket returns conn with raw system calls under Read and Write when
// conn is a *net.TCPConn, and conn itself otherwise. Deadlines, Close and
// the other methods are the TCP connection's own. Calls to Read must not
// overlap, nor calls to Write, as in crypto/tls, which holds a lock for
// each direction.
func RawSocket(conn net.Conn) net.Conn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return conn
	}
	c := &socketConn{TCPConn: tc, raw: raw, writer: newSocketWriter(raw)}
	c.readFn = c.readFD
	return c
}

// Read reads once into b, waiting for bytes as net.Conn.Read does, and
// returns io.EOF when the peer has closed its side.
func (c *socketConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.readBuf, c.readN, c.readErrno = b, 0, 0
	err := c.raw.Read(c.readFn)
	n, errno := c.readN, c.readErrno
	c.readBuf = nil
	return readResult(n, errno, err)
}

// readFD is Read's callback of RawConn.Read.
func (c *socketConn) readFD(fd uintptr) bool {
	c.readN, c.readErrno = rawRead(fd, c.readBuf)
	return c.readErrno != syscall.EAGAIN
}

// readResult turns the outcome of a raw read (the byte count, the error
// number and the error of RawConn.Read) into what net.Conn.Read returns.
func readResult(n int, errno syscall.Errno, err error) (int, error) {
	switch {
	case err != nil:
		return 0, err // a deadline or a closed connection
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b, as net.Conn.Write does.
func (c *socketConn) Write(b []byte) (int, error) { return c.writer.Write(b) }
