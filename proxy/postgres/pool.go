package postgres

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// Upstream reuse. When a client leaves cleanly, its upstream connection
// is reset with DISCARD ALL and kept, as a session-mode pooler does. The
// next connection of the same grant with the same database and startup
// parameters takes it. A new backend
// costs PostgreSQL a process start and jitgate a login; reuse costs
// one round trip. Idle connections die with the grant: its revocation
// closes them before the role is dropped.
const (
	// poolIdleTimeout closes an idle upstream connection that no client
	// took.
	poolIdleTimeout = 30 * time.Second
	// maxIdlePerGrant bounds the idle upstream connections of one grant.
	maxIdlePerGrant = 64
	// resetTimeout bounds the DISCARD ALL exchange.
	resetTimeout = 2 * time.Second
)

// idleUpstream is an upstream connection waiting in a grant's pool.
type idleUpstream struct {
	up    *upstream
	key   string
	timer *time.Timer
}

// poolKey identifies what an upstream connection was opened for: the
// role, the database and the client's startup parameters.
func poolKey(role, database string, params map[string]string) string {
	var b strings.Builder
	b.WriteString(role)
	b.WriteByte(0)
	b.WriteString(database)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		b.WriteByte(0)
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(params[name])
	}
	return b.String()
}

// takeIdle returns an idle upstream connection of grant id opened for
// key and still alive, or nil.
func (rc *roleCache) takeIdle(id int64, key string) *upstream {
	rc.mu.Lock()
	gr := rc.grants[id]
	rc.mu.Unlock()
	if gr == nil {
		return nil
	}
	for {
		gr.mu.Lock()
		var found *idleUpstream
		for i, iu := range gr.idle {
			if iu.key == key {
				found = iu
				gr.idle = slices.Delete(gr.idle, i, i+1)
				break
			}
		}
		gr.mu.Unlock()
		if found == nil {
			return nil
		}
		found.timer.Stop()
		if alive(found.up) {
			return found.up
		}
		found.up.conn.Close()
	}
}

// putIdle keeps up in grant id's pool and reports whether it did. It does
// not when the grant has ended, caps its sessions (idle connections would
// count against the role's CONNECTION LIMIT), or its pool is full.
func (rc *roleCache) putIdle(id int64, maxSessions int, key string, up *upstream) bool {
	rc.mu.Lock()
	gr := rc.grants[id]
	rc.mu.Unlock()
	if gr == nil || maxSessions > 0 {
		return false
	}
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.ended || len(gr.idle) >= maxIdlePerGrant {
		return false
	}
	iu := &idleUpstream{up: up, key: key}
	iu.timer = time.AfterFunc(poolIdleTimeout, func() {
		gr.mu.Lock()
		i := slices.Index(gr.idle, iu)
		if i >= 0 {
			gr.idle = slices.Delete(gr.idle, i, i+1)
		}
		gr.mu.Unlock()
		if i >= 0 {
			closeUpstream(up)
		}
	})
	gr.idle = append(gr.idle, iu)
	return true
}

// closeIdleLocked closes the grant's idle upstream connections. gr.mu
// must be held.
func (gr *grantRoles) closeIdleLocked() {
	for _, iu := range gr.idle {
		iu.timer.Stop()
		closeUpstream(iu.up)
	}
	gr.idle = nil
}

// closeUpstream sends Terminate and closes the connection.
func closeUpstream(up *upstream) {
	up.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
	up.conn.Write(terminateMessage) // the close follows either way
	up.conn.Close()
}

// alive reports whether an idle connection is still open with nothing to
// read: a read that times out at once finds it quiet.
func alive(up *upstream) bool {
	up.conn.SetReadDeadline(time.Now())
	var probe [1]byte
	_, err := up.conn.Read(probe[:])
	up.conn.SetReadDeadline(time.Time{})
	return isTimeout(err)
}

// discardAll is the Query message DISCARD ALL.
var discardAll = []byte("Q\x00\x00\x00\x10DISCARD ALL\x00")

// errNotReusable is returned by reset when the server's reply shows the
// connection cannot serve another client.
var errNotReusable = errors.New("the upstream connection cannot be reused")

// reset runs DISCARD ALL on an upstream connection that sits at a message
// boundary and records the parameter values the server reports after
// it. Any reply other than success, such as an open transaction's error,
// makes the connection unfit for reuse.
func reset(up *upstream) error {
	up.conn.SetDeadline(time.Now().Add(resetTimeout))
	defer up.conn.SetDeadline(time.Time{})
	if _, err := up.conn.Write(discardAll); err != nil {
		return err
	}
	r := bufio.NewReaderSize(up.conn, 512)
	params, cloned := up.params, false // other connections may share the set (paramSets)
	for {
		typ, body, err := wire.ReadMessage(r, 1<<20)
		if err != nil {
			return err
		}
		switch typ {
		case wire.MsgCommandComplete, wire.MsgNoticeResponse, wire.MsgNotificationResponse:
		case wire.MsgParameterStatus:
			var ps pgproto3.ParameterStatus
			if err := ps.Decode(body); err != nil {
				return err
			}
			if !cloned {
				params, cloned = maps.Clone(params), true
			}
			params[ps.Name] = ps.Value
		case wire.MsgReadyForQuery:
			if len(body) != 1 || body[0] != 'I' || r.Buffered() > 0 {
				return errNotReusable
			}
			up.params, up.txStatus = params, 'I'
			return nil
		default:
			return fmt.Errorf("%w: reply %q to DISCARD ALL", errNotReusable, typ)
		}
	}
}
