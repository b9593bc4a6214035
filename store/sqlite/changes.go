package sqlite

import "sync"

// notifier fans a signal out to the subscribers of Changes.
type notifier struct {
	// mu guards subs and next.
	mu   sync.Mutex
	subs map[int]chan struct{}
	next int
}

// subscribe registers a channel with a buffer of one and returns it with
// the function that unregisters it.
func (n *notifier) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.subs == nil {
		n.subs = make(map[int]chan struct{})
	}
	id := n.next
	n.next++
	n.subs[id] = ch

	cancel := func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.subs, id)
	}
	return ch, cancel
}

// broadcast signals every subscriber without blocking: a subscriber whose
// buffer is full already has a wake-up pending, and one more would tell it
// nothing new.
func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
