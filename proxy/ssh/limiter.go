package sshproxy

import (
	"net"
	"sync"
)

// sourceLimiter caps the connections per source address that have not
// finished authentication, so one address cannot hold every handshake
// slot (sshd's MaxStartups plays this role per server).
type sourceLimiter struct {
	max int

	// mu guards open.
	mu   sync.Mutex
	open map[string]int
}

func newSourceLimiter(max int) *sourceLimiter {
	return &sourceLimiter{max: max, open: map[string]int{}}
}

// acquire takes a slot for addr and reports whether one was free. A true
// result must be paired with release.
func (l *sourceLimiter) acquire(addr net.Addr) bool {
	key := sourceKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	return true
}

func (l *sourceLimiter) release(addr net.Addr) {
	key := sourceKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] <= 1 {
		delete(l.open, key)
		return
	}
	l.open[key]--
}

// sourceKey is the address without the port.
func sourceKey(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
