package sqlite

import (
	"context"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

var grantsTable = table{
	name:      "grants",
	versioned: true,
	columns: []string{
		"request_id", "state", "requester", "kind", "target", "principal",
		"start_at", "end_at", "extensions", "extended_ns", "max_sessions",
		"contract_id", "contract_version", "contract_hash", "break_glass",
		"review_due", "reviewed_by", "reviewed_at", "closed_at", "closer",
		"close_reason",
	},
}

func grantValues(g *store.Grant) []any {
	return []any{
		g.RequestID, g.State, g.Requester, g.Kind, g.Target, g.Principal,
		timeValue(g.Start), timeValue(g.End), g.Extensions, g.Extended, g.MaxSessions,
		g.ContractID, g.ContractVersion, g.ContractHash, g.BreakGlass,
		timeValue(g.ReviewDue), g.ReviewedBy, timeValue(g.ReviewedAt), timeValue(g.ClosedAt), g.Closer,
		g.CloseReason,
	}
}

func scanGrant(row scanner) (*store.Grant, error) {
	g := &store.Grant{}
	err := row.Scan(
		&g.ID, &g.Version,
		&g.RequestID, &g.State, &g.Requester, &g.Kind, &g.Target, &g.Principal,
		timeScan{&g.Start}, timeScan{&g.End}, &g.Extensions, &g.Extended, &g.MaxSessions,
		&g.ContractID, &g.ContractVersion, &g.ContractHash, &g.BreakGlass,
		timeScan{&g.ReviewDue}, &g.ReviewedBy, timeScan{&g.ReviewedAt}, timeScan{&g.ClosedAt}, &g.Closer,
		&g.CloseReason,
	)
	return g, err
}

func (r reader) Grant(ctx context.Context, id int64) (*store.Grant, error) {
	g, err := scanGrant(r.q.QueryRowContext(ctx, grantsTable.selectSQL()+" WHERE id = ?", id))
	if err != nil {
		return nil, readError(err, "grant", id)
	}
	return g, nil
}

func (r reader) GrantByRequest(ctx context.Context, requestID int64) (*store.Grant, error) {
	g, err := scanGrant(r.q.QueryRowContext(ctx, grantsTable.selectSQL()+" WHERE request_id = ?", requestID))
	if err != nil {
		return nil, readError(err, "grant of request", requestID)
	}
	return g, nil
}

func (r reader) Grants(ctx context.Context, f store.GrantFilter) ([]*store.Grant, error) {
	var w where
	in(&w, "state", f.States)
	w.equal("requester", f.Requester)
	w.equal("kind", f.Kind)
	w.equal("target", f.Target)
	w.equal("principal", f.Principal)
	if !f.ActiveAt.IsZero() {
		// The window is [Start, End). A NULL start_at is the zero time,
		// which is before any instant, so a NULL end_at never matches.
		at := timeValue(f.ActiveAt)
		w.add("(start_at IS NULL OR start_at <= ?) AND end_at > ?", at, at)
	}
	query := grantsTable.selectSQL() + w.String() + " ORDER BY id DESC" + limitClause(f.Limit)
	gs, err := list(ctx, r.q, query, w.args, scanGrant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list grants: %w", err)
	}
	return gs, nil
}

// CreateGrant inserts g and sets g.ID and g.Version. A second grant for the
// same request returns a wrapped store.ErrConflict, and a missing request a
// wrapped store.ErrNotFound.
func (t *tx) CreateGrant(ctx context.Context, g *store.Grant) error {
	id, err := t.create(ctx, grantsTable, "grant", grantValues(g))
	if err != nil {
		return err
	}
	g.ID, g.Version = id, 1
	return nil
}

func (t *tx) UpdateGrant(ctx context.Context, g *store.Grant) error {
	if err := t.updateVersioned(ctx, grantsTable, "grant", g.ID, g.Version, grantValues(g)); err != nil {
		return err
	}
	g.Version++
	return nil
}
