package sshproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// eventTimeout bounds an audit write that the front door makes outside a
// request's context.
const eventTimeout = 10 * time.Second

// upstream is the connection to the target for one client connection,
// with what the grant and its contract allow.
type upstream struct {
	client ssh.Conn
	// sock is the TCP connection under client. Terminate shuts it down
	// at once, from the caller's goroutine.
	sock  net.Conn
	chans <-chan ssh.NewChannel
	reqs  <-chan *ssh.Request
	// gone is closed when the connection to the target has ended.
	gone      chan struct{}
	target    *configs.SSHTarget
	live      *session.Live
	grant     store.Grant
	contract  *configs.Contract
	permit    credentials.Permissions
	approvers []string
	// redactor applies the contract's redaction patterns to recorded
	// input; nil when there are none.
	redactor *recordings.Redactor
}

// recordOutput reports whether the contract records terminal output.
func (u *upstream) recordOutput() bool { return u.contract.Recording.SSH != recordingOff }

// recordInput reports whether the contract records terminal input.
func (u *upstream) recordInput() bool { return u.contract.Recording.SSH == recordingOutputInput }

// Values of the contract's recording.ssh term.
const (
	recordingOff         = "off"
	recordingOutputInput = "output+input"
)

// dial mints a certificate for the live session and connects to target
// with it.
func (c *conn) dial(live *session.Live, target *configs.SSHTarget) (*upstream, error) {
	g := live.Grant()
	contract := c.srv.opts.Config.Contract(g.ContractID)
	if contract == nil {
		return nil, fmt.Errorf("grant %d names contract %s, which is no longer configured", g.ID, g.ContractID)
	}
	redactor, err := recordings.NewRedactor(contract.Recording.Redact)
	if err != nil {
		return nil, fmt.Errorf("contract %s recording.redact: %w", contract.ID, err)
	}
	u := &upstream{
		target: target, live: live, grant: g, contract: contract,
		permit:    c.srv.opts.Permissions(contract),
		approvers: c.approvers(g.RequestID),
		redactor:  redactor,
	}
	minted, err := c.srv.opts.CA.Mint(credentials.CertRequest{
		Login: c.route.login, Person: c.person, RequestID: g.RequestID, GrantID: g.ID, SessionID: live.ID(),
		ValidBefore: g.End, Now: c.srv.opts.Clock.Now(), Permit: u.permit,
	})
	if err != nil {
		return nil, fmt.Errorf("minting the certificate: %w", err)
	}
	c.recordMinted(live, g, minted.Cert)

	callback, algorithms, err := credentials.HostKeyCallback(*target)
	if err != nil {
		return nil, fmt.Errorf("host key check for target %s: %w", target.Name, err)
	}
	config := newClientConfig(c.route.login, minted.Signer, callback, algorithms)
	if err := c.connect(u, config); err != nil {
		if errors.Is(err, credentials.ErrHostKeyMismatch) {
			return nil, &rejection{msg: "jitgate: " + target.Name + " presented a host key that jitgate does not trust; the session is closed and an operator has to check the target", cause: err}
		}
		return nil, err
	}
	return u, nil
}

// connect opens the TCP connection and the SSH handshake, both bounded by
// DialTimeout.
func (c *conn) connect(u *upstream, config *ssh.ClientConfig) error {
	timeout := c.srv.opts.DialTimeout
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	dialer := net.Dialer{}
	nc, err := dialer.DialContext(ctx, "tcp", u.target.Address)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", u.target.Address, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	client, chans, reqs, err := ssh.NewClientConn(nc, u.target.Address, config)
	if !stop() {
		if client != nil {
			_ = client.Close()
		}
		_ = nc.Close()
		return fmt.Errorf("SSH handshake with %s: %w", u.target.Address, context.Cause(ctx))
	}
	if err != nil {
		_ = nc.Close()
		return fmt.Errorf("SSH handshake with %s: %w", u.target.Address, err)
	}
	u.client, u.chans, u.reqs, u.sock = client, chans, reqs, nc
	u.gone = make(chan struct{})
	return nil
}

// recordMinted writes the certificate's terms to the audit log. A failed
// write is logged: the certificate is already valid, and the session
// record and key id still tie it to the grant.
func (c *conn) recordMinted(live *session.Live, g store.Grant, cert *ssh.Certificate) {
	extensions := make([]string, 0, len(cert.Extensions))
	for name := range cert.Extensions {
		extensions = append(extensions, name)
	}
	slices.Sort(extensions)
	c.recordEvent(audit.Entry{
		Type: audit.CredentialMinted, Actor: c.person, RequestID: g.RequestID, GrantID: g.ID, SessionID: live.ID(),
		Details: map[string]any{
			"kind": "ssh-certificate", "key_id": cert.KeyId, "serial": fmt.Sprint(cert.Serial),
			"principals": cert.ValidPrincipals, "extensions": extensions,
			"valid_after":  time.Unix(int64(cert.ValidAfter), 0).UTC(),
			"valid_before": time.Unix(int64(cert.ValidBefore), 0).UTC(),
			"target":       c.route.target, "fingerprint": ssh.FingerprintSHA256(cert.Key),
		},
	})
}

// recordEvent appends an audit event and logs a failure.
func (c *conn) recordEvent(e audit.Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := c.srv.opts.Engine.RecordEvent(ctx, e); err != nil {
		c.logger().Error("writing an audit event failed", "type", e.Type, "err", err)
	}
}

// targetEvents are the global requests and the channel opens that the
// target sends on the upstream connection, which serve handles. Both are
// nil until the gate sets the upstream, and each becomes nil once x/crypto
// closes it.
type targetEvents struct {
	u     *upstream
	reqs  <-chan *ssh.Request
	chans <-chan ssh.NewChannel
}

func (t *targetEvents) start(u *upstream) {
	t.u, t.reqs, t.chans = u, u.reqs, u.chans
}

// handleTargetRequest replies to one of the target's global requests
// (hostkeys-00@openssh.com and keepalives) with the failure reply that
// OpenSSH clients send for requests they do not handle. When x/crypto has
// closed both of the target's streams, the connection to the target has
// ended.
func (c *conn) handleTargetRequest(t *targetEvents, req *ssh.Request, ok bool) {
	if !ok {
		t.reqs = nil
		c.endTargetEvents(t)
		return
	}
	if req.WantReply {
		_ = req.Reply(false, nil)
	}
}

// handleTargetChannel relays a channel the target opens, which does not
// wait: it rejects the channel or starts a goroutine for it.
func (c *conn) handleTargetChannel(t *targetEvents, nc ssh.NewChannel, ok bool) {
	if !ok {
		t.chans = nil
		c.endTargetEvents(t)
		return
	}
	c.openFromTarget(t.u, nc)
}

// endTargetEvents runs targetClosed once both of the target's streams are
// closed. x/crypto closes them just before Wait returns.
func (c *conn) endTargetEvents(t *targetEvents) {
	if t.reqs == nil && t.chans == nil {
		c.targetClosed(t.u, t.u.client.Wait())
	}
}

// targetClosed ends the session when the target closed the connection
// while the client still used it.
func (c *conn) targetClosed(u *upstream, err error) {
	close(u.gone)
	c.mu.Lock()
	ending := c.terminating
	c.mu.Unlock()
	if !ending {
		c.logger().Warn("the target closed the connection", "target", u.target.Name, "err", err)
		u.live.Terminate(session.ReasonError, "jitgate: the connection to "+u.target.Name+" closed")
	}
}
