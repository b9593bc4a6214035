package notify

import "sync"

// Counts are delivery counters. Failed counts failed attempts, including
// the last attempt of an item that then went dead; Dead counts items given
// up after MaxAttempts, or a day after their webhook left the config.
type Counts struct {
	Delivered uint64
	Failed    uint64
	Dead      uint64
}

// Stats are the counters since New, in total and per endpoint name.
type Stats struct {
	Total     Counts
	Endpoints map[string]Counts
}

// counters is the mutable form of Stats.
type counters struct {
	// mu guards total and byEndpoint.
	mu         sync.Mutex
	total      Counts
	byEndpoint map[string]Counts
}

func (c *counters) add(endpoint string, delivered, failed, dead uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byEndpoint == nil {
		c.byEndpoint = map[string]Counts{}
	}
	e := c.byEndpoint[endpoint]
	e.Delivered += delivered
	e.Failed += failed
	e.Dead += dead
	c.byEndpoint[endpoint] = e
	c.total.Delivered += delivered
	c.total.Failed += failed
	c.total.Dead += dead
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Total: c.total, Endpoints: make(map[string]Counts, len(c.byEndpoint))}
	for name, counts := range c.byEndpoint {
		s.Endpoints[name] = counts
	}
	return s
}
