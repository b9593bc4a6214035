package sqlite

import (
	"context"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

var requestsTable = table{
	name:      "requests",
	versioned: true,
	columns: []string{
		"state", "requester", "kind", "target", "principal", "duration_ns",
		`"trigger"`, "reason", "ticket", "contract_id", "contract_version",
		"contract_hash", "break_glass", "stage", "created_at", "expires_at",
		"decided_at", "closer", "close_reason",
	},
}

func requestValues(r *store.Request) []any {
	return []any{
		r.State, r.Requester, r.Kind, r.Target, r.Principal, r.Duration,
		r.Trigger, r.Reason, r.Ticket, r.ContractID, r.ContractVersion,
		r.ContractHash, r.BreakGlass, r.Stage, timeValue(r.CreatedAt), timeValue(r.ExpiresAt),
		timeValue(r.DecidedAt), r.Closer, r.CloseReason,
	}
}

func scanRequest(row scanner) (*store.Request, error) {
	r := &store.Request{}
	err := row.Scan(
		&r.ID, &r.Version,
		&r.State, &r.Requester, &r.Kind, &r.Target, &r.Principal, &r.Duration,
		&r.Trigger, &r.Reason, &r.Ticket, &r.ContractID, &r.ContractVersion,
		&r.ContractHash, &r.BreakGlass, &r.Stage, timeScan{&r.CreatedAt}, timeScan{&r.ExpiresAt},
		timeScan{&r.DecidedAt}, &r.Closer, &r.CloseReason,
	)
	return r, err
}

func (r reader) Request(ctx context.Context, id int64) (*store.Request, error) {
	row := r.q.QueryRowContext(ctx, requestsTable.selectSQL()+" WHERE id = ?", id)
	req, err := scanRequest(row)
	if err != nil {
		return nil, readError(err, "request", id)
	}
	return req, nil
}

func (r reader) Requests(ctx context.Context, f store.RequestFilter) ([]*store.Request, error) {
	var w where
	in(&w, "state", f.States)
	w.equal("requester", f.Requester)
	w.equal("kind", f.Kind)
	w.equal("target", f.Target)
	w.equal("principal", f.Principal)
	query := requestsTable.selectSQL() + w.String() + " ORDER BY id DESC" + limitClause(f.Limit)
	reqs, err := list(ctx, r.q, query, w.args, scanRequest)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list requests: %w", err)
	}
	return reqs, nil
}

func (t *tx) CreateRequest(ctx context.Context, r *store.Request) error {
	id, err := t.create(ctx, requestsTable, "request", requestValues(r))
	if err != nil {
		return err
	}
	r.ID, r.Version = id, 1
	return nil
}

func (t *tx) UpdateRequest(ctx context.Context, r *store.Request) error {
	if err := t.updateVersioned(ctx, requestsTable, "request", r.ID, r.Version, requestValues(r)); err != nil {
		return err
	}
	r.Version++
	return nil
}
