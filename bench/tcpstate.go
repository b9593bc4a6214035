package main

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"
)

// establishedPeers returns the remote ports of the ESTABLISHED TCP
// sockets whose local port is localPort, IPv4 and IPv6, read from the
// kernel with a NETLINK_SOCK_DIAG dump (sock_diag(7)) that requests only
// ESTABLISHED sockets. The backend's socket leaves ESTABLISHED as soon as
// jitgate's FIN arrives, before the backend process exits. Reading
// /proc/net/tcp instead takes milliseconds per reading once a benchmark
// has left thousands of sockets in TIME_WAIT.
func establishedPeers(localPort int, into map[int]bool) error {
	clear(into)
	table, err := openTCPTable(true, false)
	if err != nil {
		return err
	}
	defer table.close()
	return table.scan(func(s tcpSocket) {
		if s.local == localPort {
			into[s.remote] = true
		}
	})
}

// Constants of sock_diag(7) and <linux/tcp.h> that package syscall lacks.
const (
	sockDiagByFamily    = 20 // SOCK_DIAG_BY_FAMILY
	tcpStateEstablished = 1
	inetDiagReqLen      = 56 // struct inet_diag_req_v2
	inetDiagMsgLen      = 72 // struct inet_diag_msg
	inetDiagInfo        = 2  // INET_DIAG_INFO, an attribute holding struct tcp_info
	// tcpInfoBytesReceived is the offset of tcpi_bytes_received in
	// struct tcp_info (Linux 4.1 and later).
	tcpInfoBytesReceived = 128
)

// tcpSocket is one ESTABLISHED socket of a reading.
type tcpSocket struct {
	local, remote int
	// bytesReceived counts the bytes the socket has received, when the
	// table was opened withInfo and the kernel reports it.
	bytesReceived uint64
	hasBytes      bool
}

// tcpTable is a reader of the kernel's ESTABLISHED TCP sockets that
// reuses one netlink socket and one buffer for every reading. Each dump
// walks the whole hash table of its address family, which took about 1 ms
// here with the table nearly empty. So a reader that polls dumps each
// family once per reading, and IPv6 only when a watched socket may use it.
type tcpTable struct {
	fd       int
	families []uint8
	req, buf []byte
}

// openTCPTable opens a reader of the IPv4 table, and of the IPv6 one
// with ipv6. withInfo requests each socket's struct tcp_info
// too, for its count of bytes received.
func openTCPTable(ipv6, withInfo bool) (*tcpTable, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("open a sock_diag netlink socket: %w", err)
	}
	t := &tcpTable{fd: fd, families: []uint8{syscall.AF_INET}, buf: make([]byte, 64<<10)}
	if ipv6 {
		t.families = append(t.families, syscall.AF_INET6)
	}
	t.req = make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen)
	binary.NativeEndian.PutUint32(t.req[0:], uint32(len(t.req)))
	binary.NativeEndian.PutUint16(t.req[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(t.req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	body := t.req[syscall.NLMSG_HDRLEN:]
	body[1] = syscall.IPPROTO_TCP
	if withInfo {
		body[2] = 1 << (inetDiagInfo - 1) // idiag_ext
	}
	binary.NativeEndian.PutUint32(body[4:], 1<<tcpStateEstablished)
	return t, nil
}

func (t *tcpTable) close() { syscall.Close(t.fd) }

// scan calls found with every ESTABLISHED TCP socket of the table's
// families.
func (t *tcpTable) scan(found func(tcpSocket)) error {
	for _, family := range t.families {
		if err := t.dump(family, found); err != nil {
			return err
		}
	}
	return nil
}

// dump is scan for one address family.
func (t *tcpTable) dump(family uint8, found func(tcpSocket)) error {
	t.req[syscall.NLMSG_HDRLEN] = family
	// Raw calls, so the reader's thread keeps its P: see rawSend.
	if err := rawSend(t.fd, t.req); err != nil {
		return fmt.Errorf("send the sock_diag request: %w", err)
	}
	for {
		n, err := rawRecv(t.fd, t.buf)
		if err != nil {
			return fmt.Errorf("read the sock_diag reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(t.buf[:n])
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
			if m.Data[1] != tcpStateEstablished {
				continue
			}
			s := tcpSocket{local: int(binary.BigEndian.Uint16(m.Data[4:])), remote: int(binary.BigEndian.Uint16(m.Data[6:]))}
			s.bytesReceived, s.hasBytes = bytesReceived(m.Data[inetDiagMsgLen:])
			found(s)
		}
	}
}

// rawSend and rawRecv send to and read from the netlink socket fd
// through syscall.RawSyscall6. A call through syscall.Syscall lets Go
// hand the calling thread's P to another thread. The reader's raised
// thread must then wait for a P, which a thread at the normal priority
// may hold while the exiting backends or sshd sessions keep it from a
// CPU. The kernel replies to a sock_diag request at once, so neither call
// waits long. A request to the kernel needs no destination address.
func rawSend(fd int, msg []byte) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func rawRecv(fd int, buf []byte) (int, error) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// bytesReceived finds tcpi_bytes_received in the attributes that follow a
// struct inet_diag_msg.
func bytesReceived(attrs []byte) (uint64, bool) {
	for len(attrs) >= syscall.SizeofRtAttr {
		n := int(binary.NativeEndian.Uint16(attrs[0:]))
		kind := binary.NativeEndian.Uint16(attrs[2:])
		if n < syscall.SizeofRtAttr || n > len(attrs) {
			return 0, false
		}
		data := attrs[syscall.SizeofRtAttr:n]
		if kind == inetDiagInfo && len(data) >= tcpInfoBytesReceived+8 {
			return binary.NativeEndian.Uint64(data[tcpInfoBytesReceived:]), true
		}
		attrs = attrs[min(len(attrs), (n+3)&^3):]
	}
	return 0, false
}

// readerNice is the nice value of the socket reader's threads when they
// may not run at real-time priority.
const readerNice = -15
