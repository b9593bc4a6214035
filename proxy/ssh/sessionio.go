package sshproxy

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
)

// attach connects the channel to its channel on the target: output pumps
// for stdout and stderr, and the target's requests to relayRequests.
// attached has room for one value, and the worker calls attach once per
// channel, when the target's channel opens.
func (s *sessionChannel) attach(u *upstream, up ssh.Channel, upReqs <-chan *ssh.Request) {
	s.upstream, s.up = u, up
	s.upstreamDone = make(chan struct{})
	s.outputs.Add(2)
	go s.pumpOutput(up, s.ch)
	go s.pumpOutput(up.Stderr(), s.ch.Stderr())
	s.attached <- upReqs
}

// pumpOutput copies target output to the client and the recording. The
// write to the client blocks while the client's window is full, which
// holds back this channel only.
//
// NOTE: stdout and stderr have a pump each, because x/crypto hands them
// out as separate streams, so a stderr chunk may reach the client and the
// recording before a stdout chunk that the target sent just before it.
// Within each stream the order is kept.
func (s *sessionChannel) pumpOutput(src io.Reader, dst io.Writer) {
	defer s.outputs.Done()
	_ = pump(src, func(p []byte) error {
		s.outputMu.Lock()
		defer s.outputMu.Unlock()
		if _, err := dst.Write(p); err != nil {
			return err
		}
		s.rec.output(p)
		return nil
	})
}

// targetSide is relayRequests' state for the target's channel.
type targetSide struct {
	// exit is the last valid exit-status or exit-signal, relayed at the end.
	exit *ssh.Request
	// toClient passes eow@openssh.com and xon-xoff on to the client.
	toClient targetWrites
	// toTarget replies to the target's requests. It is apart from
	// toClient, so a client that stopped reading delays no reply.
	toTarget targetWrites
}

// handleTargetRequest handles one request of the target's channel.
func (s *sessionChannel) handleTargetRequest(side *targetSide, req *ssh.Request) {
	switch req.Type {
	case sshmsg.RequestExitStatus:
		if _, err := sshmsg.ParseExitStatus(req.Payload); err != nil {
			s.log.Warn("the target sent a malformed exit-status; it is not relayed", "err", err)
			return
		}
		side.exit = req
	case sshmsg.RequestExitSignal:
		if _, err := sshmsg.ParseExitSignal(req.Payload); err != nil {
			s.log.Warn("the target sent a malformed exit-signal; it is not relayed", "err", err)
			return
		}
		side.exit = req
	case sshmsg.RequestEndOfWrite, sshmsg.RequestXonXoff:
		if !side.toClient.start(func() { _, _ = s.ch.SendRequest(req.Type, false, req.Payload) }) {
			s.log.Warn("dropped a target request because the client is not reading", "type", req.Type, "max_pending", maxPendingTargetWrites)
		}
	default:
		// keepalive@openssh.com from sshd's ClientAliveInterval: any
		// reply proves the connection is alive.
		if req.WantReply && !side.toTarget.start(func() { _ = req.Reply(false, nil) }) {
			s.log.Warn("dropped the reply to a target request because the target is not reading", "type", req.Type, "max_pending", maxPendingTargetWrites)
		}
	}
}

// targetWrites runs writes for the target's channel requests in order,
// each in a goroutine that exists only until its write is done. Only
// relayRequests calls start, and the zero value is ready to use.
type targetWrites struct {
	// last is closed when the latest write started is done. It is nil
	// before the first write.
	last <-chan struct{}
	// pending counts the writes started and not yet done.
	pending atomic.Int32
}

// start runs write once the write started before it is done. It drops
// write and returns false when maxPendingTargetWrites are pending: the
// peer then reads nothing, and each pending write holds a goroutine.
func (w *targetWrites) start(write func()) bool {
	if w.pending.Load() >= maxPendingTargetWrites {
		return false
	}
	w.pending.Add(1)
	prev, done := w.last, make(chan struct{})
	w.last = done
	go func() {
		defer close(done)
		defer w.pending.Add(-1)
		if prev != nil {
			<-prev
		}
		write()
	}()
	return true
}

// finishFromTarget runs once the target closed its channel. It waits for
// the last output byte and for the writes of the target's requests
// (writesDone, nil when there were none). Then it finishes the client's
// channel: exit-status or exit-signal exactly as the target sent it (none
// when it sent none), then EOF and CLOSE.
func (s *sessionChannel) finishFromTarget(exit *ssh.Request, writesDone <-chan struct{}) {
	defer close(s.upstreamDone)
	if writesDone != nil {
		<-writesDone
	}
	s.outputs.Wait()
	<-s.runAnswered
	if exit == nil && s.targetGone() {
		// Terminate shows the person that the target hung up.
		return
	}
	s.finish(exit)
}

// targetGone reports whether the whole connection to the target ended,
// rather than only this channel. x/crypto closes the channels of a dead
// connection just before Wait returns, so this waits up to
// upstreamGoneWait for that.
func (s *sessionChannel) targetGone() bool {
	timer := time.NewTimer(upstreamGoneWait)
	defer timer.Stop()
	select {
	case <-s.upstream.gone:
		return true
	case <-timer.C:
		return false
	}
}

// finish sends exit (when not nil), EOF and CLOSE to the client, once.
func (s *sessionChannel) finish(exit *ssh.Request) {
	s.mu.Lock()
	done := s.finished
	s.finished = true
	s.mu.Unlock()
	if done {
		return
	}
	if exit != nil {
		_, _ = s.ch.SendRequest(exit.Type, false, exit.Payload)
	}
	_ = s.ch.CloseWrite()
	_ = s.ch.Close()
}

// cleanup runs after the client closed the channel: it closes the
// target's channel, waits for the relay goroutines and seals the
// recording.
func (s *sessionChannel) cleanup() {
	close(s.workerDone)
	s.markAnswered()
	if s.claimer {
		// The channel closed before its run request passed the gate. The
		// goroutine ends with the gate, which the connection's end bounds.
		go s.c.releaseGate()
	}
	if pending := s.gateResult; pending != nil {
		// The channel closed during the hold: close the target's channel
		// the gate may still open for it.
		go func() {
			if res := <-pending; res.channel != nil && res.channel.ch != nil {
				// Nothing else reads the channel's requests, and x/crypto
				// stops reading the target's connection once 16 wait.
				go ssh.DiscardRequests(res.channel.reqs)
				_ = res.channel.ch.Close()
			}
		}()
	}
	if s.up != nil {
		_ = s.up.Close()
		<-s.upstreamDone
	}
	if s.upstream != nil && s.run != nil {
		s.sealRecording()
	}
}

// notice writes one or more lines to the client's stderr and the
// recording.
func (s *sessionChannel) notice(msg string) {
	s.writeLines(msg, false)
}

// warn writes msg on its own line while the session runs, and marks the
// recording.
func (s *sessionChannel) warn(msg string) {
	s.mu.Lock()
	done := s.finished
	s.mu.Unlock()
	if done {
		return
	}
	s.writeLines(msg, true)
	s.rec.marker(msg)
}

// claimEnd marks the channel finished for Conn.Terminate, so the relay
// of the target's output sends no exit status, EOF or CLOSE of its own.
// It reports whether the channel was still open; only then may the caller
// call terminate.
func (s *sessionChannel) claimEnd() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return false
	}
	s.finished = true
	return true
}

// terminate ends a channel that claimEnd marked: msg as the last line,
// then EOF and CLOSE, without an exit status.
func (s *sessionChannel) terminate(msg string) {
	if msg != "" {
		s.writeLines(msg, true)
		s.rec.marker(msg)
	}
	_ = s.ch.CloseWrite()
	_ = s.ch.Close()
}

// writeLines writes msg to stderr, ending each line with CRLF on a
// terminal (whose client side is in raw mode) and LF otherwise. With
// newLineFirst, a terminal first moves to a fresh line, because the
// cursor may stand after a shell prompt.
func (s *sessionChannel) writeLines(msg string, newLineFirst bool) {
	eol := "\n"
	if s.isTerminal() {
		eol = "\r\n"
	}
	var b strings.Builder
	if newLineFirst && eol == "\r\n" {
		b.WriteString(eol)
	}
	for line := range strings.SplitSeq(msg, "\n") {
		b.WriteString(line)
		b.WriteString(eol)
	}
	s.writeStderr([]byte(b.String()))
}

// writeStderr writes bytes of the front door's own to the client's stderr
// and records them as output, because the terminal shows them.
func (s *sessionChannel) writeStderr(data []byte) {
	if len(data) == 0 {
		return
	}
	s.outputMu.Lock()
	defer s.outputMu.Unlock()
	if _, err := s.ch.Stderr().Write(data); err != nil {
		return
	}
	s.rec.output(data)
}

// The methods below make the first session channel the hold's holdIO.

func (s *sessionChannel) hasTerminal() bool { return s.isTerminal() }

func (s *sessionChannel) prompt(ctx context.Context, question string) (string, error) {
	return s.stdin.prompt(ctx, question)
}

func (s *sessionChannel) interrupted() <-chan struct{} { return s.stdin.interrupt }
