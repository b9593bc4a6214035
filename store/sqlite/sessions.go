package sqlite

import (
	"context"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

var sessionsTable = table{
	name: "sessions",
	columns: []string{
		"grant_id", "kind", "person", "target", "principal", "client_addr",
		"state", "started_at", "ended_at", "end_reason", "recording",
		"recording_hash",
	},
}

func sessionValues(s *store.Session) []any {
	return []any{
		s.GrantID, s.Kind, s.Person, s.Target, s.Principal, s.ClientAddr,
		s.State, timeValue(s.StartedAt), timeValue(s.EndedAt), s.EndReason, s.Recording,
		s.RecordingHash,
	}
}

func scanSession(row scanner) (*store.Session, error) {
	s := &store.Session{}
	err := row.Scan(
		&s.ID,
		&s.GrantID, &s.Kind, &s.Person, &s.Target, &s.Principal, &s.ClientAddr,
		&s.State, timeScan{&s.StartedAt}, timeScan{&s.EndedAt}, &s.EndReason, &s.Recording,
		&s.RecordingHash,
	)
	return s, err
}

func (r reader) Session(ctx context.Context, id int64) (*store.Session, error) {
	s, err := scanSession(r.q.QueryRowContext(ctx, sessionsTable.selectSQL()+" WHERE id = ?", id))
	if err != nil {
		return nil, readError(err, "session", id)
	}
	return s, nil
}

func (r reader) Sessions(ctx context.Context, f store.SessionFilter) ([]*store.Session, error) {
	var w where
	w.equalID("grant_id", f.GrantID)
	in(&w, "state", f.States)
	w.equal("person", f.Person)
	query := sessionsTable.selectSQL() + w.String() + " ORDER BY id DESC" + limitClause(f.Limit)
	ss, err := list(ctx, r.q, query, w.args, scanSession)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sessions: %w", err)
	}
	return ss, nil
}

// CreateSession inserts s and sets s.ID. A missing grant returns a wrapped
// store.ErrNotFound.
func (t *tx) CreateSession(ctx context.Context, s *store.Session) error {
	id, err := t.create(ctx, sessionsTable, "session", sessionValues(s))
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

func (t *tx) UpdateSession(ctx context.Context, s *store.Session) error {
	return t.update(ctx, sessionsTable, "session", s.ID, sessionValues(s))
}
