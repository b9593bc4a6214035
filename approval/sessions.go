package approval

import (
	"context"
	"errors"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/store"
)

// Claim finds the active grant for the connection and records a new open
// session under it, in one transaction so two connections cannot both take
// the last place under the grant's session cap.
func (e *Engine) Claim(ctx context.Context, s *store.Session) (*store.Grant, error) {
	var out *store.Grant
	err := e.update(ctx, func(tx store.Tx) error {
		now := e.clock.Now()
		gs, err := tx.Grants(ctx, store.GrantFilter{
			States: []store.GrantState{store.GrantActive}, Requester: s.Person,
			Kind: s.Kind, Target: s.Target, Principal: s.Principal, ActiveAt: now,
		})
		if err != nil {
			return err
		}
		var chosen *store.Grant
		for _, g := range gs {
			if g.MaxSessions > 0 {
				open, err := tx.Sessions(ctx, store.SessionFilter{GrantID: g.ID, States: []store.SessionState{store.SessionOpen}})
				if err != nil {
					return err
				}
				if len(open) >= g.MaxSessions {
					continue
				}
			}
			chosen = g
			break
		}
		if chosen == nil {
			if len(gs) > 0 {
				return refuse(ErrSessionCap, "grant %d already has %d open sessions, the most its contract allows; close one and retry",
					gs[0].ID, gs[0].MaxSessions)
			}
			return refuse(ErrNoGrant, "%s has no active grant for %s on %s", s.Person, s.Principal, s.Target)
		}
		s.GrantID, s.State, s.StartedAt = chosen.ID, store.SessionOpen, now
		if err := tx.CreateSession(ctx, s); err != nil {
			return err
		}
		out = chosen
		return e.recordSession(ctx, tx, audit.SessionStarted, s, map[string]any{"client": s.ClientAddr})
	})
	return out, err
}

// EndSession marks a session closed with its reason and, when sealed, its
// recording and hash.
func (e *Engine) EndSession(ctx context.Context, s *store.Session) error {
	return e.update(ctx, func(tx store.Tx) error {
		cur, err := tx.Session(ctx, s.ID)
		if err != nil {
			return err
		}
		if cur.State == store.SessionClosed {
			return nil
		}
		cur.State, cur.EndedAt, cur.EndReason = store.SessionClosed, e.clock.Now(), s.EndReason
		cur.Recording, cur.RecordingHash = s.Recording, s.RecordingHash
		if err := tx.UpdateSession(ctx, cur); err != nil {
			return err
		}
		*s = *cur
		typ := audit.SessionEnded
		if s.EndReason != "client" {
			typ = audit.SessionTerminated
		}
		return e.recordSession(ctx, tx, typ, s, map[string]any{
			"reason": s.EndReason, "recording": s.Recording, "recording_hash": s.RecordingHash,
		})
	})
}

// RecordEvent appends an audit event in its own transaction, for front
// doors that report minted credentials, forwards and cancels.
func (e *Engine) RecordEvent(ctx context.Context, entry audit.Entry) error {
	return e.update(ctx, func(tx store.Tx) error {
		_, err := e.audit.Append(ctx, tx, entry)
		return err
	})
}

func (e *Engine) recordSession(ctx context.Context, tx store.Tx, typ string, s *store.Session, details map[string]any) error {
	details["kind"], details["target"], details["principal"] = s.Kind, s.Target, s.Principal
	g, err := tx.Grant(ctx, s.GrantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	entry := audit.Entry{Type: typ, Actor: s.Person, GrantID: s.GrantID, SessionID: s.ID, Details: details}
	if g != nil {
		entry.RequestID = g.RequestID
	}
	if _, err := e.audit.Append(ctx, tx, entry); err != nil {
		return err
	}
	ev := "session.started"
	if typ != audit.SessionStarted {
		ev = "session.terminated"
		if typ == audit.SessionEnded {
			return nil
		}
	}
	return e.notify(ctx, tx, Notice{Event: ev, Actor: s.Person, Grant: g})
}
