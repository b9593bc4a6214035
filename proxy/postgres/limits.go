package postgres

import (
	"net"
	"sync"
)

// sourceLimiter caps concurrent connections per client IP address.
type sourceLimiter struct {
	max int // 0 or less: no cap

	// mu guards open.
	mu   sync.Mutex
	open map[string]int
}

func newSourceLimiter(max int) *sourceLimiter {
	return &sourceLimiter{max: max, open: map[string]int{}}
}

// acquire counts a connection from addr and reports whether it is within
// the cap. Every call must be paired with release, even when it fails.
func (l *sourceLimiter) acquire(addr net.Addr) bool {
	key := sourceKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open[key]++
	return l.max <= 0 || l.open[key] <= l.max
}

func (l *sourceLimiter) release(addr net.Addr) {
	key := sourceKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

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
