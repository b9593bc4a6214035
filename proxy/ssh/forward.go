package sshproxy

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
)

// serveDirect relays a direct-tcpip or direct-streamlocal@openssh.com
// channel (local forwarding, ssh -L and -W) when the contract allows port
// forwarding. The first such channel on a connection may pass the gate,
// and then no hold messages are shown, because a forward has no stderr.
func (c *conn) serveDirect(nc ssh.NewChannel) {
	what, err := describeDirect(nc)
	if err != nil {
		c.logger().Info("malformed forwarding channel rejected", "err", err)
		_ = nc.Reject(ssh.ConnectionFailed, "jitgate: malformed channel open")
		return
	}

	u, err := c.passGate(c.ctx, nil, requestDetails{}, false, nil)
	if err != nil {
		c.rejectAfterGate(nc, err)
		return
	}
	if !u.permit.PortForwarding {
		c.logger().Info("port forwarding rejected because the contract does not allow it", "to", what)
		_ = nc.Reject(ssh.Prohibited, "jitgate: contract "+u.contract.ID+" does not allow port forwarding")
		return
	}

	up, upReqs, err := u.client.OpenChannel(nc.ChannelType(), nc.ExtraData())
	if err != nil {
		rejectLikeTarget(nc, err, c.logger())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.logger().Warn("accepting a forwarding channel failed", "to", what, "err", err)
		_ = up.Close()
		return
	}
	c.logger().Info("local forward opened", "to", what)
	c.recordForward(u, "local", what)
	splice(ch, reqs, up, upReqs)
}

// rejectAfterGate rejects a channel the gate did not let through.
func (c *conn) rejectAfterGate(nc ssh.NewChannel, err error) {
	var r *rejection
	if errors.As(err, &r) {
		_ = nc.Reject(ssh.Prohibited, r.msg)
		c.endAfterRejection()
		return
	}
	_ = nc.Reject(ssh.ConnectionFailed, "jitgate: the connection is closing")
}

func describeDirect(nc ssh.NewChannel) (string, error) {
	if nc.ChannelType() == sshmsg.ChannelTypeDirectStreamLocal {
		m, err := sshmsg.ParseStreamLocalChannel(nc.ExtraData())
		return m.SocketPath, err
	}
	m, err := sshmsg.ParseTCPIPChannel(nc.ExtraData())
	return fmt.Sprintf("%s:%d", m.Host, m.Port), err
}

// recordForward writes a forward.opened audit event.
func (c *conn) recordForward(u *upstream, direction, what string) {
	c.recordEvent(audit.Entry{
		Type: audit.ForwardOpened, Actor: c.person, RequestID: u.grant.RequestID, GrantID: u.grant.ID,
		SessionID: u.live.ID(), Details: map[string]any{"direction": direction, "address": what, "target": u.target.Name},
	})
}

// handleGlobalRequest handles one global request. A requestQueue calls
// it one request at a time, so replies go out in the order the requests
// came (RFC 4254 section 4).
func (c *conn) handleGlobalRequest(req *ssh.Request) {
	c.touch()
	switch req.Type {
	case sshmsg.RequestTCPIPForward, sshmsg.RequestStreamLocalForward:
		c.handleRemoteForward(req)
	case sshmsg.RequestCancelTCPIPForward, sshmsg.RequestCancelStreamLocalForward:
		c.handleCancelForward(req)
	default:
		// keepalive@openssh.com, no-more-sessions@openssh.com and
		// others get the failure reply that OpenSSH expects.
		if req.WantReply {
			_ = req.Reply(false, nil)
		}
	}
}

// handleRemoteForward passes tcpip-forward and streamlocal-forward (ssh -R)
// to the target when the contract allows port forwarding, with the
// target's reply, which carries the port bound for a request for port 0.
func (c *conn) handleRemoteForward(req *ssh.Request) {
	what, err := describeRemoteForward(req)
	if err != nil {
		c.logger().Info("malformed forwarding request rejected", "err", err)
		_ = req.Reply(false, nil)
		return
	}

	c.waitForClaim()
	u, err := c.passGate(c.ctx, nil, requestDetails{}, false, nil)
	if err != nil {
		_ = req.Reply(false, nil)
		var r *rejection
		if errors.As(err, &r) {
			c.endAfterRejection()
		}
		return
	}
	if !u.permit.PortForwarding || !c.takeForward() {
		c.logger().Info("remote forward rejected", "at", what, "permitted", u.permit.PortForwarding, "max", maxRemoteForwards)
		_ = req.Reply(false, nil)
		return
	}
	ok, payload, err := u.client.SendRequest(req.Type, true, req.Payload)
	if err != nil || !ok {
		c.releaseForward()
		c.logger().Info("the target rejected a remote forward", "at", what, "err", err)
		_ = req.Reply(false, nil)
		return
	}
	_ = req.Reply(true, payload)
	if r, err := sshmsg.ParseTCPIPForwardReply(payload); err == nil && req.Type == sshmsg.RequestTCPIPForward {
		what = fmt.Sprintf("%s (port %d)", what, r.Port)
	}
	c.logger().Info("remote forward opened", "at", what)
	c.recordForward(u, "remote", what)
}

// handleCancelForward passes a cancel request to the target.
func (c *conn) handleCancelForward(req *ssh.Request) {
	u := c.currentUpstream()
	if u == nil {
		_ = req.Reply(false, nil)
		return
	}
	ok, _, err := u.client.SendRequest(req.Type, true, req.Payload)
	if ok && err == nil {
		c.releaseForward()
	}
	if req.WantReply {
		_ = req.Reply(ok && err == nil, nil)
	}
}

func describeRemoteForward(req *ssh.Request) (string, error) {
	if req.Type == sshmsg.RequestStreamLocalForward {
		m, err := sshmsg.ParseStreamLocalForward(req.Payload)
		return m.SocketPath, err
	}
	m, err := sshmsg.ParseTCPIPForward(req.Payload)
	return fmt.Sprintf("%s:%d", m.BindHost, m.BindPort), err
}

func (c *conn) takeForward() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forwards >= maxRemoteForwards {
		return false
	}
	c.forwards++
	return true
}

func (c *conn) releaseForward() {
	c.mu.Lock()
	if c.forwards > 0 {
		c.forwards--
	}
	c.mu.Unlock()
}

// openFromTarget relays a channel the target opened toward the client:
// forwarded-tcpip and forwarded-streamlocal for remote forwards, x11 and
// auth-agent@openssh.com, each only when the contract allows it.
func (c *conn) openFromTarget(u *upstream, nc ssh.NewChannel) {
	permitted := false
	switch nc.ChannelType() {
	case sshmsg.ChannelTypeForwardedTCPIP, sshmsg.ChannelTypeForwardedStreamLocal:
		permitted = u.permit.PortForwarding
	case sshmsg.ChannelTypeX11:
		permitted = u.permit.X11Forwarding
	case sshmsg.ChannelTypeAgent:
		permitted = u.permit.AgentForwarding
	default:
		_ = nc.Reject(ssh.UnknownChannelType, "jitgate: channel type "+nc.ChannelType()+" is not relayed")
		return
	}
	if !permitted {
		c.logger().Info("channel from the target rejected because the contract does not allow it", "type", nc.ChannelType())
		_ = nc.Reject(ssh.Prohibited, "jitgate: the contract does not allow "+nc.ChannelType()+" channels")
		return
	}
	if !c.takeChannelSlot() {
		_ = nc.Reject(ssh.ResourceShortage, "jitgate: too many channels open on this connection")
		return
	}
	go func() {
		defer c.releaseChannelSlot()
		ch, reqs, err := c.sc.OpenChannel(nc.ChannelType(), nc.ExtraData())
		if err != nil {
			rejectLikeTarget(nc, err, c.logger())
			return
		}
		up, upReqs, err := nc.Accept()
		if err != nil {
			_ = ch.Close()
			return
		}
		c.logger().Info("channel from the target relayed", "type", nc.ChannelType())
		c.recordForward(u, nc.ChannelType(), "")
		splice(ch, reqs, up, upReqs)
	}()
}

// splice copies both ways between two channels. EOF from one side becomes
// EOF on the other (a write shutdown for a TCP forward, RFC 4254 section
// 5.3). CLOSE goes to both once both directions ended, or once one side
// closed and the bytes it sent before closing were passed on. Channel
// requests on forwards get a failure reply.
func splice(a ssh.Channel, aReqs <-chan *ssh.Request, b ssh.Channel, bReqs <-chan *ssh.Request) {
	copyDone := func(dst, src ssh.Channel) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			copyChannel(dst, src)
			_ = dst.CloseWrite()
		}()
		return done
	}
	closed := func(reqs <-chan *ssh.Request) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for req := range reqs {
				if req.WantReply {
					_ = req.Reply(false, nil)
				}
			}
		}()
		return done
	}
	aToB, bToA := copyDone(b, a), copyDone(a, b)
	aClosed, bClosed := closed(aReqs), closed(bReqs)

	var abDone, baDone, aGone, bGone bool
	for !(abDone && baDone) && !(aGone && abDone) && !(bGone && baDone) {
		select {
		case <-aToB:
			abDone, aToB = true, nil
		case <-bToA:
			baDone, bToA = true, nil
		case <-aClosed:
			aGone, aClosed = true, nil
		case <-bClosed:
			bGone, bClosed = true, nil
		}
	}
	_ = a.Close()
	_ = b.Close()
}
