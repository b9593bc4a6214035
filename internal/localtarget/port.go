package localtarget

import (
	"fmt"
	"net"
)

// loopbackHost is the only address the servers listen on and the clients
// in this package dial.
const loopbackHost = "127.0.0.1"

// maxPortAttempts bounds how often a start is retried when another process
// takes the chosen free port between FreePort and the server's bind.
const maxPortAttempts = 4

// freePort is FreePort, replaced in tests to force a port clash.
var freePort = FreePort

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
//
// It binds port 0, reads the port the kernel chose and closes the listener,
// so another process can still take the port before the caller binds it.
// Callers that start a server on it retry with a new port on a clash.
func FreePort() (int, error) {
	listener, err := net.Listen("tcp", net.JoinHostPort(loopbackHost, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", loopbackHost, err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	if err := listener.Close(); err != nil {
		return 0, fmt.Errorf("close the probe listener on port %d: %w", port, err)
	}
	return port, nil
}
