package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/store"
)

// credentialKind is the store's kind for a temporary Postgres role.
const credentialKind = "postgres-role"

// roleCache holds the temporary roles this server minted, one set per
// grant, shared by that grant's connections. A watcher per grant revokes
// them when the grant ends or is revoked.
type roleCache struct {
	srv    *Server
	ctx    context.Context // ends the watchers at shutdown
	cancel context.CancelFunc

	// mu guards grants.
	mu     sync.Mutex
	grants map[int64]*grantRoles
}

// grantRoles are the roles of one grant, usually one. After an extension
// the next connection gets a new role whose VALID UNTIL is the new end.
// The issuer cannot move the VALID UNTIL of an existing role, so logins
// as the old role after the old end would fail.
type grantRoles struct {
	grantID int64
	target  string
	issuer  Issuer

	// mu serializes minting and revoking, and guards the fields below.
	mu    sync.Mutex
	roles []mintedRole
	ended bool
	// users counts the connections using the roles. When the grant ends,
	// the watcher waits for them to close, so each client sees the
	// session's own final message before the role's backends are ended.
	users   int
	drained chan struct{} // closed when users drops to 0 after the end
	// idle are upstream connections that clients left, kept for reuse.
	idle []*idleUpstream
}

// drainTimeout bounds the wait for a grant's connections to close before
// its roles are revoked anyway.
var drainTimeout = 10 * time.Second

type mintedRole struct {
	role   *credentials.PGRole
	credID int64
}

func newRoleCache(s *Server) *roleCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &roleCache{srv: s, ctx: ctx, cancel: cancel, grants: map[int64]*grantRoles{}}
}

// errGrantEnded is returned by acquire for a grant whose roles were
// already revoked.
var errGrantEnded = errors.New("the grant has ended")

// acquire returns a role for a connection under grant g on target,
// minting one when the grant has none valid until its current end.
func (rc *roleCache) acquire(ctx context.Context, target string, g *store.Grant) (*credentials.PGRole, error) {
	gr := rc.forGrant(target, g)
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.ended {
		ce := reject(wire.CodeInvalidAuthorization, "jitgate: grant %d has ended; connect again to request access", g.ID)
		ce.cause = errGrantEnded
		return nil, ce
	}

	end := g.End.Truncate(time.Microsecond)
	if n := len(gr.roles); n > 0 && !gr.roles[n-1].role.ValidUntil.Before(end) {
		gr.users++
		return gr.roles[n-1].role, nil
	}

	role, err := gr.issuer.Mint(ctx, credentials.MintRole{
		GrantID: g.ID, Role: g.Principal, ValidUntil: g.End, ConnLimit: g.MaxSessions,
	})
	if err != nil {
		return nil, err
	}
	credID, err := rc.recordMinted(ctx, target, g, role)
	if err != nil {
		// Without a record, a crash would leave the role behind unseen by
		// the store; Sweep still finds it by its prefix.
		rc.srv.log.Error("recording a minted role failed", "grant", g.ID, "role", role.Name, "err", err)
	}
	gr.roles = append(gr.roles, mintedRole{role: role, credID: credID})
	gr.users++
	rc.srv.log.Info("temporary role minted", "grant", g.ID, "target", target, "role", role.Name,
		"in_role", g.Principal, "valid_until", role.ValidUntil)
	return role, nil
}

// release notes that a connection that acquired a role of grant id has
// closed.
func (rc *roleCache) release(id int64) {
	rc.mu.Lock()
	gr := rc.grants[id]
	rc.mu.Unlock()
	if gr == nil {
		return
	}
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.users--; gr.users == 0 && gr.drained != nil {
		close(gr.drained)
		gr.drained = nil
	}
}

// drain waits until the grant's connections have closed, at most
// drainTimeout, and stops new ones from acquiring a role.
func (rc *roleCache) drain(gr *grantRoles) {
	gr.mu.Lock()
	gr.ended = true
	if gr.users == 0 {
		gr.mu.Unlock()
		return
	}
	drained := make(chan struct{})
	gr.drained = drained
	gr.mu.Unlock()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		rc.srv.log.Warn("connections of an ended grant still open; revoking its roles anyway", "grant", gr.grantID)
	case <-rc.ctx.Done():
	}
}

// forGrant returns the role set of g, creating it and its watcher.
func (rc *roleCache) forGrant(target string, g *store.Grant) *grantRoles {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if gr, ok := rc.grants[g.ID]; ok {
		return gr
	}
	gr := &grantRoles{grantID: g.ID, target: target, issuer: rc.srv.issuers[target]}
	rc.grants[g.ID] = gr
	version := g.Version
	rc.srv.wg.Go(func() { rc.watch(gr, version) })
	return gr
}

// watch revokes the grant's roles once the grant is no longer active. It
// also revokes them when it loses track of the grant, because a role that
// outlives its grant is the worse failure.
func (rc *roleCache) watch(gr *grantRoles, version int64) {
	for {
		g, err := rc.srv.opts.Engine.WaitGrant(rc.ctx, gr.grantID, version)
		if rc.ctx.Err() != nil {
			return // shutdown revokes every role
		}
		if err != nil {
			rc.srv.log.Error("watching grant failed; revoking its roles", "grant", gr.grantID, "err", err)
			break
		}
		if g.State != store.GrantActive {
			break
		}
		version = g.Version
	}
	rc.drain(gr)
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	rc.revoke(ctx, gr, "grant over")
}

// revoke drops the grant's roles and marks their records revoked. A role
// that fails to drop keeps its live record, so the next Sweep retries it.
func (rc *roleCache) revoke(ctx context.Context, gr *grantRoles, reason string) {
	rc.mu.Lock()
	if rc.grants[gr.grantID] == gr {
		delete(rc.grants, gr.grantID)
	}
	rc.mu.Unlock()

	gr.mu.Lock()
	defer gr.mu.Unlock()
	gr.ended = true
	gr.closeIdleLocked()
	for _, m := range gr.roles {
		if err := gr.issuer.Revoke(ctx, m.role.Name); err != nil {
			rc.srv.log.Error("revoking temporary role failed; Sweep will retry", "grant", gr.grantID, "role", m.role.Name, "err", err)
			continue
		}
		rc.srv.log.Info("temporary role revoked", "grant", gr.grantID, "target", gr.target, "role", m.role.Name, "reason", reason)
		if err := rc.recordRevoked(ctx, gr.grantID, gr.target, m.role.Name, m.credID, reason); err != nil {
			rc.srv.log.Error("recording a revoked role failed", "grant", gr.grantID, "role", m.role.Name, "err", err)
		}
	}
	gr.roles = nil
}

// stopWatching ends the grant watchers, for shutdown.
func (rc *roleCache) stopWatching() { rc.cancel() }

// revokeAll revokes every role this server holds, for shutdown.
func (rc *roleCache) revokeAll(ctx context.Context) {
	rc.mu.Lock()
	all := make([]*grantRoles, 0, len(rc.grants))
	for _, gr := range rc.grants {
		all = append(all, gr)
	}
	rc.mu.Unlock()
	for _, gr := range all {
		rc.revoke(ctx, gr, "shutdown")
	}
}

// holds reports whether name is a role this server minted and still uses.
func (rc *roleCache) holds(name string) bool {
	rc.mu.Lock()
	all := make([]*grantRoles, 0, len(rc.grants))
	for _, gr := range rc.grants {
		all = append(all, gr)
	}
	rc.mu.Unlock()
	for _, gr := range all {
		gr.mu.Lock()
		for _, m := range gr.roles {
			if m.role.Name == name {
				gr.mu.Unlock()
				return true
			}
		}
		gr.mu.Unlock()
	}
	return false
}

func (rc *roleCache) recordMinted(ctx context.Context, target string, g *store.Grant, role *credentials.PGRole) (int64, error) {
	c := &store.Credential{
		GrantID: g.ID, Kind: credentialKind, Target: target, Name: role.Name,
		State: store.CredentialLive, CreatedAt: rc.srv.clock.Now(), ExpiresAt: role.ValidUntil,
	}
	err := rc.srv.opts.Store.Update(ctx, func(tx store.Tx) error { return tx.CreateCredential(ctx, c) })
	if err != nil {
		return 0, fmt.Errorf("storing credential record: %w", err)
	}
	err = rc.srv.opts.Engine.RecordEvent(ctx, audit.Entry{
		Type: audit.CredentialMinted, GrantID: g.ID,
		Details: map[string]any{"kind": credentialKind, "target": target, "role": role.Name,
			"in_role": g.Principal, "valid_until": role.ValidUntil, "credential": c.ID},
	})
	return c.ID, err
}

// recordRevoked marks a credential record revoked. credID 0 means the
// record is looked up by grant and name.
func (rc *roleCache) recordRevoked(ctx context.Context, grantID int64, target, name string, credID int64, reason string) error {
	now := rc.srv.clock.Now()
	err := rc.srv.opts.Store.Update(ctx, func(tx store.Tx) error {
		cs, err := tx.Credentials(ctx, store.CredentialFilter{GrantID: grantID, Target: target})
		if err != nil {
			return err
		}
		for _, c := range cs {
			if (credID != 0 && c.ID != credID) || c.Name != name || c.State != store.CredentialLive {
				continue
			}
			c.State, c.RevokedAt = store.CredentialRevoked, now
			if err := tx.UpdateCredential(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating credential record: %w", err)
	}
	return rc.srv.opts.Engine.RecordEvent(ctx, audit.Entry{
		Type: audit.CredentialRevoked, GrantID: grantID,
		Details: map[string]any{"kind": credentialKind, "target": target, "role": name, "reason": reason},
	})
}
