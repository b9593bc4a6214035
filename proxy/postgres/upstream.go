package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// paramSets shares equal sets of ParameterStatus values between the
// upstream connections of a target, which nearly always get the same set.
// A heap profile of 1,000 idle sessions put the copies at about 1.5 KiB
// per session, a tenth of its heap. Shared sets are never changed: reset
// copies a set before it changes it.
type paramSets struct {
	mu   sync.Mutex
	last map[string]map[string]string // by target
}

// share returns the set last seen for target when it equals params, and
// otherwise keeps params as that set.
func (s *paramSets) share(target string, params map[string]string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.last[target]; ok && maps.Equal(last, params) {
		return last
	}
	if s.last == nil {
		s.last = map[string]map[string]string{}
	}
	s.last[target] = params
	return params
}

// upstream is the hijacked connection to the target server.
type upstream struct {
	conn     net.Conn
	writer   *upstreamWriter
	key      upstreamKey
	role     string // the role logged in as
	params   map[string]string
	txStatus byte
}

// connectUpstream gets the grant's role (or the target's service role)
// and logs in to the target with the client's startup parameters.
func (c *clientConn) connectUpstream() (*upstream, error) {
	ctx, cancel := context.WithTimeout(c.ctx, upstreamTimeout)
	defer cancel()

	role, err := serviceRole(c.target)
	if err != nil {
		return nil, err
	}
	if role == nil {
		if role, err = c.srv.roles.acquire(ctx, c.target.Name, c.grant); err != nil {
			return nil, fmt.Errorf("getting a role for grant %d: %w", c.grant.ID, err)
		}
		c.roleAcquired = true
	}
	if c.roleAcquired {
		c.poolKey = poolKey(role.Name, c.req.database, c.req.forward)
		if up := c.srv.roles.takeIdle(c.grant.ID, c.poolKey); up != nil {
			up.writer = newUpstreamWriter(up.conn)
			c.log.Info("idle upstream connection reused", "upstream_pid", up.key.pid)
			return up, nil
		}
	}
	issuer := c.srv.issuers[c.target.Name]
	pc, err := issuer.Connect(ctx, role, c.req.database, c.req.forward)
	if err != nil {
		return nil, err
	}
	if err := pc.SyncConn(ctx); err != nil {
		pc.Close(context.Background())
		return nil, fmt.Errorf("preparing the upstream connection for the relay: %w", err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		pc.Close(context.Background())
		return nil, fmt.Errorf("taking over the upstream connection: %w", err)
	}
	if n := hc.Frontend.ReadBufferLen(); n > 0 {
		hc.Conn.Close()
		return nil, fmt.Errorf("upstream sent %d unexpected bytes after ReadyForQuery", n)
	}
	hc.Conn.SetDeadline(time.Time{})
	up := &upstream{
		conn:     hc.Conn,
		role:     role.Name,
		params:   c.srv.paramSets.share(c.target.Name, hc.ParameterStatuses),
		txStatus: hc.TxStatus,
		key:      upstreamKey{addr: hc.Conn.RemoteAddr().String(), tls: hc.TLSConfig, pid: hc.PID, secret: hc.SecretKey},
	}
	up.writer = newUpstreamWriter(hc.Conn)
	return up, nil
}

// greet sends the client what the upstream server sent after
// authentication: the ParameterStatus values, a BackendKeyData issued by
// the front door, and ReadyForQuery.
func (c *clientConn) greet(key *cancelKey) error {
	var buf []byte
	for _, name := range slices.Sorted(maps.Keys(c.upstream.params)) {
		buf = wire.AppendMessage(buf, &pgproto3.ParameterStatus{Name: name, Value: c.upstream.params[name]})
	}
	buf = wire.AppendMessage(buf, &pgproto3.BackendKeyData{ProcessID: key.pid, SecretKey: key.secret[:]})
	status := c.upstream.txStatus
	if status == 0 {
		status = 'I'
	}
	buf = wire.AppendMessage(buf, &pgproto3.ReadyForQuery{TxStatus: status})
	return c.out.send(buf)
}

// cancelUpstream sends the upstream server a CancelRequest for the
// statement the session runs.
func (c *clientConn) cancelUpstream(ctx context.Context) error {
	up := c.upstream
	if up == nil {
		return errors.New("the session has no upstream connection yet")
	}
	return sendCancel(ctx, up.key)
}
