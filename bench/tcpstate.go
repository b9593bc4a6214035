package main

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// establishedPeers returns the remote ports of the ESTABLISHED TCP
// sockets whose local port is localPort, IPv4 and IPv6, read from the
// kernel with a NETLINK_SOCK_DIAG dump (sock_diag(7)) that requests only
// ESTABLISHED sockets. The window-end workload uses it to see the instant
// jitgate closes an upstream connection: the backend's socket leaves
// ESTABLISHED as soon as jitgate's FIN arrives, before the backend
// process exits. Reading /proc/net/tcp instead takes milliseconds per
// reading once a benchmark has left thousands of sockets in TIME_WAIT.
func establishedPeers(localPort int, into map[int]bool) error {
	clear(into)
	return dumpEstablished(func(local, remote int) {
		if local == localPort {
			into[remote] = true
		}
	})
}

// establishedLocals returns the local ports of the ESTABLISHED TCP sockets
// whose remote port is remotePort, read as establishedPeers reads them.
// The window-end workload uses it to see the instant a client socket gets
// jitgate's FIN, whatever the harness's goroutine that reads it is doing.
func establishedLocals(remotePort int, into map[int]bool) error {
	clear(into)
	return dumpEstablished(func(local, remote int) {
		if remote == remotePort {
			into[local] = true
		}
	})
}

// Constants of sock_diag(7) that package syscall lacks.
const (
	sockDiagByFamily    = 20 // SOCK_DIAG_BY_FAMILY
	tcpStateEstablished = 1
	inetDiagReqLen      = 56 // struct inet_diag_req_v2
	inetDiagMsgLen      = 72 // struct inet_diag_msg
)

// dumpEstablished requests from the kernel every ESTABLISHED TCP socket,
// IPv4 and IPv6, and calls found with the ports of each.
func dumpEstablished(found func(local, remote int)) error {
	for _, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		if err := dumpFamily(family, found); err != nil {
			return err
		}
	}
	return nil
}

// dumpFamily is dumpEstablished for one address family.
func dumpFamily(family uint8, found func(local, remote int)) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return fmt.Errorf("open a sock_diag netlink socket: %w", err)
	}
	defer syscall.Close(fd)

	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	body := req[syscall.NLMSG_HDRLEN:]
	body[0] = family
	body[1] = syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(body[4:], 1<<tcpStateEstablished)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("send the sock_diag request: %w", err)
	}

	buf := make([]byte, 64<<10)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("read the sock_diag reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("parse the sock_diag reply: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return nil
			case syscall.NLMSG_ERROR:
				return fmt.Errorf("sock_diag: the kernel rejected the dump request")
			}
			if len(m.Data) < inetDiagMsgLen {
				continue
			}
			// struct inet_diag_msg: family, state, timer, retrans, then
			// the socket id, whose ports are big-endian.
			local := int(binary.BigEndian.Uint16(m.Data[4:]))
			remote := int(binary.BigEndian.Uint16(m.Data[6:]))
			if m.Data[1] == tcpStateEstablished {
				found(local, remote)
			}
		}
	}
}

// readerNice is the nice value of the thread that reads the TCP table.
const readerNice = -15

// raiseThreadPriority sets the calling thread's nice value to readerNice.
// On Linux, setpriority(2) with PRIO_PROCESS and the thread id acts on
// that one thread. It needs CAP_SYS_NICE and fails without it.
func raiseThreadPriority() error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), readerNice)
}
