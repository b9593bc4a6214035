package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// A session's cancel key stays known for retiredKeyTTL after the session
// ends, so a CancelRequest sent with it still reaches its person. psql
// does exactly that: when jitgate closes a session at the window end,
// psql reconnects at once (a new request is opened and held), and Ctrl-C
// during that reconnect sends a CancelRequest with the old session's key.
const (
	retiredKeyTTL = 10 * time.Minute
	maxRetiredKey = 10000
)

// errGaveUp is the cause of a hold that the client's Ctrl-C ended.
var errGaveUp = errors.New("the client sent a cancel request while waiting for approval")

// retiredKey is the key of an ended session.
type retiredKey struct {
	secret  [4]byte
	person  string
	expires time.Time
}

// holds tracks the connections waiting for approval, so a cancel request
// can end them and the last one to leave can withdraw the request.
type holds struct {
	// mu guards byPerson and byRequest.
	mu        sync.Mutex
	byPerson  map[string]map[*clientConn]context.CancelCauseFunc
	byRequest map[int64]int
}

func newHolds() *holds {
	return &holds{byPerson: map[string]map[*clientConn]context.CancelCauseFunc{}, byRequest: map[int64]int{}}
}

// add records c as waiting on request id; the returned function removes it
// and reports whether c was the last connection waiting on that request.
func (h *holds) add(c *clientConn, id int64, cancel context.CancelCauseFunc) func() (last bool) {
	person := c.person.Name
	h.mu.Lock()
	if h.byPerson[person] == nil {
		h.byPerson[person] = map[*clientConn]context.CancelCauseFunc{}
	}
	h.byPerson[person][c] = cancel
	h.byRequest[id]++
	h.mu.Unlock()
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.byPerson[person], c)
		if len(h.byPerson[person]) == 0 {
			delete(h.byPerson, person)
		}
		h.byRequest[id]--
		last := h.byRequest[id] == 0
		if last {
			delete(h.byRequest, id)
		}
		return last
	}
}

// giveUp ends every hold of person and returns how many it ended.
func (h *holds) giveUp(person string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, cancel := range h.byPerson[person] {
		cancel(errGaveUp)
	}
	return len(h.byPerson[person])
}

// retire keeps k for retiredKeyTTL after its session ended.
func (r *cancelRegistry) retire(k *cancelKey, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retired == nil {
		r.retired = map[uint32]retiredKey{}
	}
	if len(r.retired) >= maxRetiredKey {
		for pid, old := range r.retired {
			if now.After(old.expires) || len(r.retired) >= maxRetiredKey {
				delete(r.retired, pid)
			}
		}
	}
	r.retired[k.pid] = retiredKey{secret: k.secret, person: k.conn.person.Name, expires: now.Add(retiredKeyTTL)}
}

// retiredPerson returns the person of an ended session whose key req
// carries, comparing the secret in constant time.
func (r *cancelRegistry) retiredPerson(req *wire.Cancel, now time.Time) (string, bool) {
	r.mu.Lock()
	k, ok := r.retired[req.ProcessID]
	r.mu.Unlock()
	if !ok || now.After(k.expires) || subtle.ConstantTimeCompare(k.secret[:], req.SecretKey) != 1 {
		return "", false
	}
	return k.person, true
}
