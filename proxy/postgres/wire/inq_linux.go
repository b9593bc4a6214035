//go:build linux && !386

package wire

import (
	"syscall"
	"unsafe"
)

// tcpInq is TCP_INQ, the socket option, and TCP_CM_INQ, the control
// message it adds to recvmsg(2), from linux/tcp.h.
const tcpInq = 0x24

// inqReader reads a TCP socket with recvmsg(2) and the TCP_INQ control
// message, which counts the bytes left in the socket after each read.
// Linux reports 1 when no bytes are left but the peer's FIN is, so a
// count of 0 means that nothing is left to read, not even the end.
type inqReader struct {
	iov syscall.Iovec
	msg syscall.Msghdr
	// ctl holds one control message with a 4-byte payload.
	ctl [syscall.SizeofCmsghdr + 8]byte
}

// newInqReader turns TCP_INQ on for raw's socket and returns a reader of
// it, or nil when the socket refuses the option.
func newInqReader(raw syscall.RawConn) *inqReader {
	var err error
	if cerr := raw.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpInq, 1)
	}); cerr != nil || err != nil {
		return nil
	}
	return &inqReader{}
}

// read reads fd, which must be non-blocking, into b once. It returns the
// bytes read, the bytes the socket holds after the read (-1 when Linux
// sent no count), and the error number.
func (r *inqReader) read(fd uintptr, b []byte) (n, inq int, errno syscall.Errno) {
	r.iov.Base = unsafe.SliceData(b)
	r.iov.SetLen(len(b))
	r.msg.Iov = &r.iov
	r.msg.Iovlen = 1
	r.msg.Control = &r.ctl[0]
	r.msg.SetControllen(len(r.ctl))
	for {
		got, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0)
		if e == syscall.EINTR {
			r.msg.SetControllen(len(r.ctl))
			continue
		}
		// Let go of b, which may go back to the pool while the
		// connection is quiet.
		r.iov.Base = nil
		if e != 0 {
			return 0, -1, e
		}
		return int(got), r.count(), 0
	}
}

// count returns the TCP_CM_INQ count of the last read, or -1 when the
// control message is missing.
func (r *inqReader) count() int {
	if r.msg.Controllen < syscall.SizeofCmsghdr+4 {
		return -1
	}
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&r.ctl[0]))
	if h.Level != syscall.IPPROTO_TCP || h.Type != tcpInq || h.Len < syscall.SizeofCmsghdr+4 {
		return -1
	}
	return int(*(*int32)(unsafe.Pointer(&r.ctl[syscall.SizeofCmsghdr])))
}
