package sshproxy

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
)

// sessionChannel relays one client session channel (RFC 4254 section 6)
// to a session channel on the target. Its worker goroutine handles the
// client's requests in order, one handler per request type. Until the
// connection passes the gate, requests that the target must see (pty-req,
// env, x11-req, auth-agent-req) are kept and replayed upstream in the same
// order before the shell, exec or subsystem request. A second goroutine,
// relayRequests, queues the client's requests for the worker and handles
// the target's requests.
type sessionChannel struct {
	c      *conn
	ch     ssh.Channel
	num    int
	log    *slog.Logger
	opened time.Time
	rec    *channelRecorder
	stdin  *stdinPump

	// The fields below belong to the worker goroutine.
	replies  replyQueue
	pty      *sshmsg.PtyRequest
	staged   []stagedRequest
	envCount int
	envBytes int
	details  requestDetails
	run      *runRequest
	// gateResult receives the gate's result while the run request holds;
	// it is nil otherwise.
	gateResult chan gateResult
	upstream   *upstream
	up         ssh.Channel
	// attached passes the target channel's requests to relayRequests. The
	// worker sends on it once, when it attaches the target's channel.
	attached chan (<-chan *ssh.Request)
	// workerDone is closed when the worker stops handling requests. After
	// it, relayRequests stops waiting for a target channel.
	workerDone chan struct{}
	// upstreamDone is closed when the target closed its channel and the
	// client side was finished.
	upstreamDone chan struct{}
	outputs      sync.WaitGroup
	// claimer is set when this channel claimed the gate.
	claimer bool
	// runAnswered is closed once the client has the reply to its run
	// request, or will get none. The exit status, EOF and CLOSE wait for
	// it: a fast command's CLOSE from the target must not overtake the
	// reply, or the client sees its channel closed before the reply.
	runAnswered chan struct{}
	answerOnce  sync.Once
	// outputMu is held across each write to the client's stdout or
	// stderr and its recording, so the recording has the output in the
	// order the client got it.
	outputMu sync.Mutex

	// mu guards the fields below, which Warn and Terminate read from
	// other goroutines.
	mu       sync.Mutex
	terminal bool // the client asked for a pty, so lines end in CRLF
	finished bool // exit status, EOF and CLOSE were sent, or Terminate closed the channel
}

// stagedRequest is a request kept until the target's channel exists.
type stagedRequest struct {
	req   *ssh.Request
	reply *pendingReply // nil when the client already has its reply
}

// runRequest is the shell, exec or subsystem request that starts the
// session on the target.
type runRequest struct {
	req     *ssh.Request
	reply   *pendingReply
	kind    string // shell, exec or subsystem
	command string // the exec command or the subsystem name
}

// gateResult is the gate's outcome for a session channel: the connection,
// and the target's session channel when this channel opened it inside the
// gate.
type gateResult struct {
	up      *upstream
	err     error
	channel *openedChannel
}

// openedChannel is a session channel opened on the target, or the error.
type openedChannel struct {
	ch   ssh.Channel
	reqs <-chan *ssh.Request
	err  error
}

// serveSession accepts a session channel and serves it until the client
// closes it. When the target is already connected, the target's channel
// is opened first, so a rejection such as sshd's MaxSessions reaches the
// client as the open failure, with the target's reason. The channel that
// starts the gate is accepted first instead, so it can show the hold.
func (c *conn) serveSession(nc ssh.NewChannel) {
	var up ssh.Channel
	var upReqs <-chan *ssh.Request
	u := c.currentUpstream()
	claimer := false
	if u == nil {
		claimer = c.claimGate()
	}
	if u == nil && !claimer {
		// Another channel passes the gate. This one waits for it, so a
		// rejection by the target reaches it as an open failure.
		var err error
		if u, err = c.passGate(c.ctx, nil, requestDetails{}, false, nil); err != nil {
			c.rejectAfterGate(nc, err)
			return
		}
	}
	if u != nil {
		var err error
		up, upReqs, err = u.client.OpenChannel(sshmsg.ChannelTypeSession, nil)
		if err != nil {
			rejectLikeTarget(nc, err, c.logger())
			return
		}
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.logger().Warn("accepting a session channel failed", "err", err)
		if up != nil {
			_ = up.Close()
		}
		if claimer {
			c.releaseGate()
		}
		return
	}
	num := c.channelNumber()
	s := &sessionChannel{
		c: c, ch: ch, num: num, log: c.logger().With("channel", num), opened: c.srv.opts.Clock.Now(),
		runAnswered: make(chan struct{}), claimer: claimer,
		attached: make(chan (<-chan *ssh.Request), 1), workerDone: make(chan struct{}),
	}
	s.stdin = newStdinPump(s)
	s.rec = newChannelRecorder(c.srv.opts.Clock, s.log)
	if !c.addSession(s) {
		_ = ch.Close()
		if up != nil {
			_ = up.Close()
		}
		if claimer {
			c.releaseGate()
		}
		return
	}
	defer c.removeSession(s)
	if up != nil {
		s.attach(u, up, upReqs)
	}

	queue := make(chan *ssh.Request)
	go s.relayRequests(reqs, queue)
	s.serve(queue)
	s.cleanup()
}

// rejectLikeTarget passes the target's rejection of a channel to the client.
func rejectLikeTarget(nc ssh.NewChannel, err error, log *slog.Logger) {
	var open *ssh.OpenChannelError
	if errors.As(err, &open) {
		log.Info("the target rejected a channel", "type", nc.ChannelType(), "reason", open.Reason.String(), "message", open.Message)
		_ = nc.Reject(open.Reason, open.Message)
		return
	}
	log.Warn("opening a channel on the target failed", "type", nc.ChannelType(), "err", err)
	_ = nc.Reject(ssh.ConnectionFailed, "jitgate: the target did not open the channel")
}

// relayRequests queues the client's requests for the worker, so the
// transport does not wait for it, and closes the channel of a client with
// more than maxQueuedRequests waiting. Once the worker attaches the
// target's channel, it also handles the target's requests. It returns
// when both sides are done.
//
// One goroutine serves both sides because an idle session keeps every
// goroutine it has. It starts writes in goroutines of their own (see
// targetWrites), because a write can wait on a key exchange or a full TCP
// buffer, and x/crypto stops reading a connection once 16 requests of a
// channel wait.
func (s *sessionChannel) relayRequests(client <-chan *ssh.Request, queue chan<- *ssh.Request) {
	var (
		waiting    []*ssh.Request
		target     <-chan *ssh.Request
		side       targetSide
		attached   = s.attached
		workerDone = s.workerDone
		overflowed bool
	)
	for client != nil || queue != nil || target != nil || attached != nil {
		var send chan<- *ssh.Request
		var next *ssh.Request
		if len(waiting) > 0 {
			send, next = queue, waiting[0]
		}
		select {
		case req, ok := <-client:
			switch {
			case !ok:
				client = nil
			case len(waiting) < maxQueuedRequests:
				waiting = append(waiting, req)
			case !overflowed:
				overflowed = true
				s.log.Warn("client sent too many channel requests without waiting for replies; closing the channel", "max", maxQueuedRequests)
				// Close sends a message and can wait like any write, so it
				// runs in a goroutine of its own.
				go func() { _ = s.ch.Close() }()
			}
		case send <- next:
			waiting[0] = nil
			waiting = waiting[1:]
			if len(waiting) == 0 {
				waiting = nil // drop the array a burst grew
			}
		case reqs := <-attached:
			target, attached = reqs, nil
		case <-workerDone:
			// The worker sends on attached before it stops, so a target
			// channel it attached is already there.
			workerDone = nil
			select {
			case reqs := <-attached:
				target = reqs
			default:
			}
			attached = nil
		case req, ok := <-target:
			if !ok {
				target = nil
				go s.finishFromTarget(side.exit, side.toClient.last)
				continue
			}
			s.handleTargetRequest(&side, req)
		}
		if client == nil && len(waiting) == 0 && queue != nil {
			close(queue)
			queue = nil
		}
	}
}

// serve is the worker loop: it handles requests in order and the gate's
// result, until the client closes the channel.
func (s *sessionChannel) serve(queue <-chan *ssh.Request) {
	for {
		select {
		case req, ok := <-queue:
			if !ok {
				return
			}
			s.c.touch()
			s.handle(req)
		case res := <-s.gateResult:
			s.gateResult = nil
			s.resume(res)
		}
	}
}

// handle dispatches one client request by type.
func (s *sessionChannel) handle(req *ssh.Request) {
	switch req.Type {
	case sshmsg.RequestPty:
		s.handlePty(req)
	case sshmsg.RequestWindowChange:
		s.handleWindowChange(req)
	case sshmsg.RequestEnv:
		s.handleEnv(req)
	case sshmsg.RequestShell, sshmsg.RequestExec, sshmsg.RequestSubsystem:
		s.handleRun(req)
	case sshmsg.RequestX11:
		s.handlePermitted(req, func(u *upstream) bool { return u.permit.X11Forwarding }, "X11 forwarding")
	case sshmsg.RequestAgentForward:
		s.handlePermitted(req, func(u *upstream) bool { return u.permit.AgentForwarding }, "agent forwarding")
	case sshmsg.RequestSignal, sshmsg.RequestBreak, sshmsg.RequestEndOfWrite:
		s.handleLive(req)
	default:
		s.log.Debug("unsupported channel request rejected", "type", req.Type)
		s.replies.reply(req, false)
	}
}

// handlePty keeps the terminal request for the recording and passes it on.
func (s *sessionChannel) handlePty(req *ssh.Request) {
	p, err := sshmsg.ParsePtyRequest(req.Payload)
	if err != nil || s.pty != nil || s.run != nil {
		s.log.Info("pty-req rejected", "err", err, "repeated", s.pty != nil, "after_start", s.run != nil)
		s.replies.reply(req, false)
		return
	}
	s.pty = &p
	s.setTerminal(true)
	if s.up == nil {
		// Reply now, because x/crypto clients wait for this reply before
		// they send the shell request that passes the gate.
		s.staged = append(s.staged, stagedRequest{req: req})
		s.replies.reply(req, true)
		return
	}
	if !s.upstream.permit.PTY {
		s.log.Info("pty-req rejected because the contract does not allow a terminal")
		s.pty = nil
		s.setTerminal(false)
		s.replies.reply(req, false)
		return
	}
	s.forward(req)
}

// handleWindowChange passes a size change on and records it. Before the
// target's channel exists, it updates the kept pty-req instead.
//
// NOTE: stdin reaches the target through its own copy, so keys typed
// right after a resize can reach the target before the window-change,
// which a direct connection to sshd never does. x/crypto hands requests
// and data out on separate streams, so the order between them is lost
// before this code receives them.
func (s *sessionChannel) handleWindowChange(req *ssh.Request) {
	w, err := sshmsg.ParseWindowChange(req.Payload)
	if err != nil {
		s.log.Info("window-change rejected", "err", err)
		s.replies.reply(req, false)
		return
	}
	if s.pty != nil {
		s.pty.Columns, s.pty.Rows, s.pty.WidthPixels, s.pty.HeightPixels = w.Columns, w.Rows, w.WidthPixels, w.HeightPixels
	}
	if s.up == nil {
		s.replies.reply(req, true)
		return
	}
	s.rec.resize(w.Columns, w.Rows)
	s.forward(req)
}

// handleEnv keeps JITGATE_ variables for the access request and passes
// allow-listed variables on, within the per-channel bounds.
func (s *sessionChannel) handleEnv(req *ssh.Request) {
	e, err := sshmsg.ParseEnv(req.Payload)
	if err != nil {
		s.log.Info("env rejected", "err", err)
		s.replies.reply(req, false)
		return
	}
	if strings.HasPrefix(e.Name, envPrefix) {
		s.replies.reply(req, s.details.set(e.Name, e.Value))
		return
	}
	s.envCount++
	s.envBytes += len(e.Name) + len(e.Value)
	if !envAllowed(e.Name) || s.envCount > maxEnvPerChannel || s.envBytes > maxEnvBytesPerChannel {
		s.log.Debug("env rejected", "name", e.Name)
		s.replies.reply(req, false)
		return
	}
	if s.up == nil {
		s.staged = append(s.staged, stagedRequest{req: req})
		s.replies.reply(req, true)
		return
	}
	s.forward(req)
}

// handlePermitted passes on a request that needs a contract term. Before
// the gate its reply waits for the replay, because the contract is not
// known yet.
func (s *sessionChannel) handlePermitted(req *ssh.Request, permitted func(*upstream) bool, what string) {
	if s.up == nil {
		s.staged = append(s.staged, stagedRequest{req: req, reply: s.replies.add(req)})
		return
	}
	if !permitted(s.upstream) {
		s.log.Info("channel request rejected because the contract does not allow it", "type", req.Type, "feature", what)
		s.replies.reply(req, false)
		return
	}
	s.log.Info("forwarding request passed to the target", "type", req.Type)
	s.forward(req)
}

// handleLive passes on requests that only mean something once the target
// runs the session (signal, break, eow@openssh.com).
func (s *sessionChannel) handleLive(req *ssh.Request) {
	if s.up == nil {
		s.replies.reply(req, false)
		return
	}
	s.forward(req)
}

// forward sends req to the target's channel and relays the reply.
func (s *sessionChannel) forward(req *ssh.Request) {
	reply := s.replies.add(req)
	ok, err := s.up.SendRequest(req.Type, req.WantReply, req.Payload)
	s.replies.decide(reply, ok && err == nil)
}

func (s *sessionChannel) setTerminal(on bool) {
	s.mu.Lock()
	s.terminal = on
	s.mu.Unlock()
}

func (s *sessionChannel) isTerminal() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.terminal
}
