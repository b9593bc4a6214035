package sshproxy

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
	"github.com/jitgate/jitgate/recordings"
)

// rejectionExitStatus is the exit status of a session that jitgate rejected,
// so scripts tell it from ssh's own 255.
const rejectionExitStatus = 1

// handleRun takes the shell, exec or subsystem request. With the target
// connected, it starts the session there. Otherwise it passes the gate in
// another goroutine, so window changes keep flowing while the person waits.
func (s *sessionChannel) handleRun(req *ssh.Request) {
	if s.run != nil {
		s.log.Info("second run request rejected", "type", req.Type)
		s.replies.reply(req, false)
		return
	}
	run, err := parseRun(req)
	if err != nil {
		s.log.Info("run request rejected", "err", err)
		s.replies.reply(req, false)
		return
	}
	run.reply = s.replies.add(req)
	s.run = run
	if s.up != nil {
		s.start()
		return
	}

	if s.pty != nil {
		s.stdin.start()
	}
	s.gateResult = make(chan gateResult, 1)
	details, claimer := s.details, s.claimer
	s.claimer = false
	go func() {
		var opened *openedChannel
		openFirst := func(u *upstream) {
			ch, reqs, err := u.client.OpenChannel(sshmsg.ChannelTypeSession, nil)
			opened = &openedChannel{ch: ch, reqs: reqs, err: err}
		}
		up, err := s.c.passGate(s.c.ctx, s, details, claimer, openFirst)
		s.gateResult <- gateResult{up: up, err: err, channel: opened}
	}()
}

func parseRun(req *ssh.Request) (*runRequest, error) {
	run := &runRequest{req: req, kind: req.Type}
	switch req.Type {
	case sshmsg.RequestExec:
		e, err := sshmsg.ParseExec(req.Payload)
		if err != nil {
			return nil, err
		}
		run.command = e.Command
	case sshmsg.RequestSubsystem:
		sub, err := sshmsg.ParseSubsystem(req.Payload)
		if err != nil {
			return nil, err
		}
		run.command = sub.Name
	}
	return run, nil
}

// resume continues after the gate: it opens the target's channel, replays
// the kept requests and starts the session, or shows the rejection.
func (s *sessionChannel) resume(res gateResult) {
	if res.err != nil {
		s.reject(res.err)
		return
	}
	opened := res.channel
	if opened == nil {
		ch, reqs, err := res.up.client.OpenChannel(sshmsg.ChannelTypeSession, nil)
		opened = &openedChannel{ch: ch, reqs: reqs, err: err}
	}
	up, upReqs, err := opened.ch, opened.reqs, opened.err
	if err != nil {
		msg := "jitgate: " + res.up.target.Name + " did not open a session"
		var open *ssh.OpenChannelError
		if errors.As(err, &open) {
			msg += ": " + open.Message
		}
		s.log.Info("opening a session channel on the target failed", "err", err)
		s.notice(msg)
		s.failStaged()
		s.replies.decide(s.run.reply, false)
		s.finish(nil)
		return
	}
	s.attach(res.up, up, upReqs)
	s.replay()
	s.start()
}

// failStaged sends a failure reply to each kept request that waits for
// one, because the session never reaches the target.
func (s *sessionChannel) failStaged() {
	for _, st := range s.staged {
		s.replies.decide(st.reply, false)
	}
	s.staged = nil
}

// replay sends the kept requests to the target in the order the client
// sent them. The pty-req goes with the latest window size.
func (s *sessionChannel) replay() {
	for _, st := range s.staged {
		req := st.req
		switch req.Type {
		case sshmsg.RequestPty:
			if !s.upstream.permit.PTY || s.pty == nil {
				s.notice("jitgate: contract " + s.upstream.contract.ID + " allows no terminal; the session runs without one")
				s.pty = nil
				s.setTerminal(false)
				continue
			}
			ok, err := s.up.SendRequest(req.Type, true, s.pty.Marshal())
			if !ok || err != nil {
				s.notice("jitgate: " + s.upstream.target.Name + " rejected the terminal request")
				s.pty = nil
				s.setTerminal(false)
			}
		case sshmsg.RequestX11, sshmsg.RequestAgentForward:
			permitted := s.upstream.permit.X11Forwarding
			if req.Type == sshmsg.RequestAgentForward {
				permitted = s.upstream.permit.AgentForwarding
			}
			ok := false
			if permitted {
				ok, _ = s.up.SendRequest(req.Type, true, req.Payload)
			} else {
				s.log.Info("channel request rejected because the contract does not allow it", "type", req.Type)
			}
			s.replies.decide(st.reply, ok)
		default:
			_, _ = s.up.SendRequest(req.Type, false, req.Payload)
		}
	}
	s.staged = nil
}

// start opens the recording and sends the run request to the target.
func (s *sessionChannel) start() {
	if err := s.startRecording(); err != nil {
		s.log.Error("opening the session recording failed", "err", err)
		s.notice("jitgate: the session cannot be recorded, which contract " + s.upstream.contract.ID + " requires; the session is closed")
		s.replies.decide(s.run.reply, false)
		s.markAnswered()
		_ = s.up.Close()
		s.finish(nil)
		return
	}
	ok, err := s.up.SendRequest(s.run.kind, true, s.run.req.Payload)
	ok = ok && err == nil
	s.log.Info("session started on the target", "kind", s.run.kind, "command", s.run.command, "pty", s.pty != nil, "accepted", ok)
	s.replies.decide(s.run.reply, ok)
	s.markAnswered()
	if ok {
		s.stdin.relay(s.up)
	}
}

// markAnswered lets the target's exit status and CLOSE through to the
// client.
func (s *sessionChannel) markAnswered() {
	s.answerOnce.Do(func() { close(s.runAnswered) })
}

// startRecording creates the channel's recording, unless the contract
// records nothing.
func (s *sessionChannel) startRecording() error {
	u := s.upstream
	if !u.recordOutput() {
		s.rec.stop()
		return nil
	}
	g := u.grant
	header := recordings.CastHeader{
		Title: fmt.Sprintf("%s: %s@%s %s", s.c.person, s.c.route.login, s.c.route.target, describeRun(s.run)),
		Start: s.opened,
		JITGate: &recordings.CastSession{
			Person: s.c.person, Target: s.c.route.target, Login: s.c.route.login,
			RequestID: g.RequestID, GrantID: g.ID, SessionID: u.live.ID(), Channel: s.num,
			ContractHash: g.ContractHash, Approvers: u.approvers, PTY: s.pty != nil,
		},
	}
	if s.run.kind == sshmsg.RequestExec {
		header.JITGate.Command = s.run.command
	}
	if s.pty != nil {
		header.Width, header.Height = clampSize(s.pty.Columns), clampSize(s.pty.Rows)
		header.Env = &recordings.CastEnv{Term: s.pty.Term}
	}
	meta := recordingMeta{
		header: header, input: u.recordInput(), transfer: isTransfer(s.run.kind, s.run.command), redactor: u.redactor,
	}
	if s.pty == nil {
		meta.fileCap = streamRecordingCap
	}
	return s.rec.start(s.c.srv.opts.Recordings, u.live.ID(), s.num, meta)
}

// clampSize turns a terminal dimension into an asciicast header value: 0
// lets the header default to 80x24, and absurd sizes are capped.
func clampSize(n uint32) int {
	return int(min(n, 1<<16))
}

func describeRun(run *runRequest) string {
	switch run.kind {
	case sshmsg.RequestExec:
		return "exec " + run.command
	case sshmsg.RequestSubsystem:
		return "subsystem " + run.command
	}
	return "shell"
}

// reject ends the channel after the gate rejected the connection: the
// message on stderr, exit status 1, EOF and CLOSE. The run request gets a
// success reply first, because OpenSSH reports a failed exec with status
// 255 and never shows the exit status.
func (s *sessionChannel) reject(err error) {
	var r *rejection
	if !errors.As(err, &r) {
		// errTerminated: Terminate shows the message and closes the
		// channel, so the run request needs no reply.
		return
	}
	s.notice(r.msg)
	s.failStaged()
	s.replies.decide(s.run.reply, true)
	s.finish(&ssh.Request{Type: sshmsg.RequestExitStatus, Payload: sshmsg.ExitStatus{Status: rejectionExitStatus}.Marshal()})
	s.c.endAfterRejection()
}

// sealRecording finishes the recording and puts its hash in the audit log.
func (s *sessionChannel) sealRecording() {
	path, hash, err := s.rec.seal()
	if path == "" && err == nil {
		return
	}
	u := s.upstream
	details := map[string]any{"path": path, "sha256": hash, "channel": s.num, "kind": s.run.kind, "pty": s.pty != nil}
	if total, unrecorded, ok := s.rec.outputCounts(); ok {
		details["output_bytes"], details["output_unrecorded_bytes"] = total, unrecorded
	}
	if err != nil {
		s.log.Error("sealing the session recording failed", "path", path, "err", err)
		details["error"] = err.Error()
	}
	s.c.recordEvent(audit.Entry{
		Type: audit.RecordingSealed, Actor: s.c.person, RequestID: u.grant.RequestID, GrantID: u.grant.ID,
		SessionID: u.live.ID(), Details: details,
	})
	s.c.addRecording(sealedRecording{path: path, hash: hash, pty: s.pty != nil && s.run.kind == sshmsg.RequestShell})
}
