// Package netsock ends and corks the TCP socket under a net.Conn with raw
// system calls, which return at once. The window-end pass uses them to cut
// many sessions in turn on a thread at real-time priority (see package
// cpuprio), where syscall.Syscall could give the thread's P to another
// goroutine and leave the pass waiting for it. Close is no substitute: it
// waits until a goroutine parked in a read of the socket has run and let
// go of it.
//
// RoundTrip, which reads the socket's round-trip time, is the exception:
// it makes an ordinary system call, because nothing calls it in a pass.
package netsock

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Shutdown shuts the socket under conn down in both directions, so the
// peer reads EOF and a read parked on conn fails at once. It reports
// whether it found a socket; conn itself stays open.
func Shutdown(conn net.Conn) bool {
	raw := socketOf(conn)
	return raw != nil && raw.Control(rawShutdown) == nil
}

// CloseWrite shuts down the sending side of the socket under conn, so the
// peer reads what was written and then EOF, while conn can still read what
// the peer sends. It reports whether it found a socket.
func CloseWrite(conn net.Conn) bool {
	raw := socketOf(conn)
	return raw != nil && raw.Control(rawCloseWrite) == nil
}

// RoundTrip returns the kernel's smoothed round-trip time of the TCP
// connection under conn. It reports false when there is no socket or the
// TCP_INFO query failed.
func RoundTrip(conn net.Conn) (time.Duration, bool) {
	raw := socketOf(conn)
	if raw == nil {
		return 0, false
	}
	var info *unix.TCPInfo
	var err error
	if cerr := raw.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); cerr != nil || err != nil {
		return 0, false
	}
	return time.Duration(info.Rtt) * time.Microsecond, true
}

// Cork sets TCP_CORK on the socket under conn, so what is written next is
// held back until Shutdown, which then sends it with the FIN in one TCP
// segment rather than two. Over loopback the sender also pays for the
// receiver's processing of each segment.
func Cork(conn net.Conn) {
	if raw := socketOf(conn); raw != nil {
		raw.Control(rawCork)
	}
}

// socketOf returns the socket under conn and under its wrappers with a
// NetConn method, such as *tls.Conn, or nil when there is none.
func socketOf(conn net.Conn) syscall.RawConn {
	for c := conn; c != nil; {
		if sc, ok := c.(syscall.Conn); ok {
			raw, err := sc.SyscallConn()
			if err != nil {
				return nil
			}
			return raw
		}
		wrapper, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = wrapper.NetConn()
	}
	return nil
}
