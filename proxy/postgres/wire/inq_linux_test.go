//go:build linux && !386

package wire

import (
	"syscall"
	"testing"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestInqReaderCounts checks the counts the pump relies on: the bytes
// left after a read, 0 once the socket is empty, and 1 for an empty
// socket whose peer has sent its FIN.
func TestInqReaderCounts(t *testing.T) {
	client, server := testenv.TCPPair(t)
	raw, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := newInqReader(raw)
	if r == nil {
		t.Fatal("a TCP socket refused TCP_INQ")
	}

	client.Write(make([]byte, 100))
	buf := make([]byte, 40)
	read := func() (n, inq int) {
		t.Helper()
		var errno syscall.Errno
		raw.Read(func(fd uintptr) bool {
			n, inq, errno = r.read(fd, buf)
			return errno != syscall.EAGAIN
		})
		if errno != 0 {
			t.Fatalf("recvmsg: %v", errno)
		}
		return n, inq
	}

	for _, want := range []struct{ n, inq int }{{40, 60}, {40, 20}, {20, 0}} {
		if n, inq := read(); n != want.n || inq != want.inq {
			t.Fatalf("read %d bytes with %d left, want %d with %d left", n, inq, want.n, want.inq)
		}
	}
	if r.iov.Base != nil {
		t.Error("the reader still points at the last read's buffer")
	}

	client.Write(make([]byte, 10))
	client.CloseWrite()
	if n, inq := read(); n != 10 || inq != 1 {
		t.Fatalf("after the FIN: read %d bytes with %d left, want 10 with 1 left", n, inq)
	}
	if n, _ := read(); n != 0 {
		t.Fatalf("read %d bytes after the FIN, want 0", n)
	}
}
