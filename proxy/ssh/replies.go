package sshproxy

import "golang.org/x/crypto/ssh"

// replyQueue sends the replies to one channel's requests in the order the
// requests came, as RFC 4254 section 5.4 requires, when some replies wait
// for the target and later ones are known at once. Only the channel's
// worker goroutine uses it.
type replyQueue struct {
	pending []*pendingReply
}

type pendingReply struct {
	req     *ssh.Request
	decided bool
	ok      bool
}

// add queues the reply to req and returns its handle, or nil when req
// wants no reply.
func (q *replyQueue) add(req *ssh.Request) *pendingReply {
	if !req.WantReply {
		return nil
	}
	p := &pendingReply{req: req}
	q.pending = append(q.pending, p)
	return p
}

// decide sets the reply and sends every reply at the head of the queue
// that is decided. A nil p is ignored.
func (q *replyQueue) decide(p *pendingReply, ok bool) {
	if p == nil {
		return
	}
	p.decided, p.ok = true, ok
	for len(q.pending) > 0 && q.pending[0].decided {
		head := q.pending[0]
		q.pending = q.pending[1:]
		_ = head.req.Reply(head.ok, nil)
	}
}

// reply sends the reply to req now, after the replies queued before it.
func (q *replyQueue) reply(req *ssh.Request, ok bool) {
	q.decide(q.add(req), ok)
}
