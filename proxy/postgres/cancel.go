package postgres

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// cancelRegistry maps the keys the front door gives clients in
// BackendKeyData to their sessions.
type cancelRegistry struct {
	// mu guards byPID and retired.
	mu      sync.Mutex
	byPID   map[uint32]*cancelKey
	retired map[uint32]retiredKey
}

// cancelKey is one client-visible key and the connection it cancels.
type cancelKey struct {
	pid    uint32
	secret [4]byte
	conn   *clientConn
}

func newCancelRegistry() *cancelRegistry {
	return &cancelRegistry{byPID: map[uint32]*cancelKey{}}
}

// register issues a fresh random key for c. The process id is random too,
// so keys do not reveal how many sessions the proxy has served.
func (r *cancelRegistry) register(c *clientConn) (*cancelKey, error) {
	k := &cancelKey{conn: c}
	if _, err := rand.Read(k.secret[:]); err != nil {
		return nil, fmt.Errorf("generating a cancel key: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("generating a cancel key: %w", err)
		}
		pid := binary.BigEndian.Uint32(b[:]) &^ (1 << 31) // positive as an int32, as psql shows it
		if _, taken := r.byPID[pid]; pid != 0 && !taken {
			k.pid = pid
			r.byPID[pid] = k
			return k, nil
		}
	}
}

func (r *cancelRegistry) unregister(k *cancelKey) {
	if k == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPID[k.pid] == k {
		delete(r.byPID, k.pid)
	}
}

// lookup returns the connection the key belongs to, comparing the secret
// in constant time.
func (r *cancelRegistry) lookup(req *wire.Cancel) *clientConn {
	r.mu.Lock()
	k := r.byPID[req.ProcessID]
	r.mu.Unlock()
	if k == nil || subtle.ConstantTimeCompare(k.secret[:], req.SecretKey) != 1 {
		return nil
	}
	return k.conn
}

// handleCancel forwards a client's CancelRequest to the upstream backend
// of the session it names. As PostgreSQL does, it never replies, whether
// or not the key matched.
func (s *Server) handleCancel(ctx context.Context, req *wire.Cancel, from string) {
	target := s.cancels.lookup(req)
	if target == nil {
		if person, ok := s.cancels.retiredPerson(req, s.clock.Now()); ok {
			n := s.holds.giveUp(person)
			s.log.Info("cancel request with an ended session's key ends the person's holds", "client", from, "person", person, "holds", n)
			return
		}
		s.log.Info("cancel request with an unknown key ignored", "client", from, "pid", req.ProcessID)
		return
	}
	log := target.log.With("cancel_from", from)
	if err := target.cancelUpstream(ctx); err != nil {
		log.Error("forwarding cancel request failed", "err", err)
		return
	}
	log.Info("cancel request forwarded")
	err := s.opts.Engine.RecordEvent(ctx, audit.Entry{
		Type: audit.CancelForwarded, Actor: target.person.Name,
		GrantID: target.grantID, SessionID: target.sessionID,
		Details: map[string]any{"client": from, "target": target.target.Name},
	})
	if err != nil {
		log.Error("recording the cancel in the audit log failed", "err", err)
	}
}

// upstreamKey holds the address, TLS config and key that a CancelRequest
// to the upstream server needs.
type upstreamKey struct {
	addr   string
	tls    *tls.Config // nil for a plaintext upstream
	pid    uint32
	secret []byte
}

// sendCancel opens a new connection to the upstream server, with TLS when
// the session has it, sends a CancelRequest and waits until the server
// closes the connection, which it does once it has signalled the backend.
func sendCancel(ctx context.Context, key upstreamKey) error {
	ctx, cancel := context.WithTimeout(ctx, cancelTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", key.addr)
	if err != nil {
		return fmt.Errorf("connecting to %s to cancel: %w", key.addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if key.tls != nil {
		if conn, err = startUpstreamTLS(conn, key.tls); err != nil {
			return fmt.Errorf("cancel connection to %s: %w", key.addr, err)
		}
	}
	msg := wire.AppendStartupPacket(nil, &wire.Packet{
		Kind: wire.KindCancelRequest, Cancel: &wire.Cancel{ProcessID: key.pid, SecretKey: key.secret},
	})
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("sending cancel request to %s: %w", key.addr, err)
	}
	_, _ = io.Copy(io.Discard, conn) // ends when the server closes, or at the timeout
	return nil
}

// startUpstreamTLS sends SSLRequest and runs the TLS handshake, since
// PostgreSQL 15 does not accept direct TLS.
func startUpstreamTLS(conn net.Conn, config *tls.Config) (net.Conn, error) {
	req := []byte{0, 0, 0, 8, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(req[4:], wire.SSLRequestCode)
	if _, err := conn.Write(req); err != nil {
		return nil, fmt.Errorf("sending SSLRequest: %w", err)
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		return nil, fmt.Errorf("reading the SSLRequest response: %w", err)
	}
	if answer[0] != 'S' {
		return nil, fmt.Errorf("server responded to SSLRequest with %q: it does not accept TLS; set the target's tls to disable", answer[0])
	}
	tc := tls.Client(conn, config.Clone())
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}
