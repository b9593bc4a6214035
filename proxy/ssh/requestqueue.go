package sshproxy

import (
	"sync"

	"golang.org/x/crypto/ssh"
)

// requestQueue passes requests from the goroutine that reads them off
// x/crypto to a worker goroutine that handles them one at a time, in
// order. The worker exists only while requests wait: push starts it, and
// it exits when the queue is empty. Global requests are rare (a
// keepalive every few seconds at most, a forward now and then), so an
// idle connection keeps no goroutine for them.
type requestQueue struct {
	limit  int
	handle func(*ssh.Request)

	// mu guards the fields below.
	mu      sync.Mutex
	pending []*ssh.Request
	running bool // a worker goroutine runs
}

func newRequestQueue(limit int, handle func(*ssh.Request)) *requestQueue {
	return &requestQueue{limit: limit, handle: handle}
}

// push queues req and starts the worker when none runs. It never blocks,
// and returns false, dropping req, when limit requests already wait.
func (q *requestQueue) push(req *ssh.Request) bool {
	q.mu.Lock()
	if len(q.pending) >= q.limit {
		q.mu.Unlock()
		return false
	}
	q.pending = append(q.pending, req)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.work()
	}
	return true
}

// work handles queued requests until none is left.
func (q *requestQueue) work() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.pending = nil
			q.mu.Unlock()
			return
		}
		req := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.handle(req)
	}
}
