package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jitgate/jitgate/store"
)

// CanDecide runs the checks of Decide for person on request requestID
// without voting. It returns nil when Decide would accept the person's
// vote now, and otherwise the *PolicyError that Decide would return:
// ErrNotFound, ErrNotPending (also for a pending request past its expiry),
// ErrSelfApproval, ErrNotApprover or ErrAlreadyVoted. Pages call it to
// decide whether to show the approve and deny buttons and, when not, why.
// It reads the store outside a transaction, so a vote that lands between
// this call and Decide can still make Decide reject the person's vote.
func (e *Engine) CanDecide(ctx context.Context, requestID int64, person string) error {
	tx := readOnlyTx{e.store}
	r, err := tx.Request(ctx, requestID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(ErrNotFound, "request %d does not exist", requestID)
	}
	if err != nil {
		return fmt.Errorf("approval: reading request %d: %w", requestID, err)
	}
	if r.State == store.RequestPending && !e.clock.Now().Before(r.ExpiresAt) {
		return refuse(ErrNotPending, "request %d expired at %s before a decision", r.ID, r.ExpiresAt.Format(time.RFC3339))
	}
	if r.State != store.RequestPending {
		return refuse(ErrNotPending, "request %d is %s, not pending", r.ID, r.State)
	}
	c := e.contract(r.ContractID)
	if c == nil {
		return refuse(ErrNotFound, "request %d names contract %s, which is no longer configured", r.ID, r.ContractID)
	}
	return e.checkApprover(ctx, tx, c, r, person)
}

// errReadOnly is returned by every write method of readOnlyTx.
var errReadOnly = errors.New("approval: write attempted through a read-only transaction")

// readOnlyTx lets the checks that Decide runs inside a transaction run on
// plain store reads. Its write methods fail with errReadOnly, so a check
// that starts writing shows up as an error instead of a silent change.
type readOnlyTx struct{ store.Reader }

func (readOnlyTx) CreateRequest(context.Context, *store.Request) error {
	return readOnly("CreateRequest")
}

func (readOnlyTx) UpdateRequest(context.Context, *store.Request) error {
	return readOnly("UpdateRequest")
}

func (readOnlyTx) AddDecision(context.Context, *store.Decision) error {
	return readOnly("AddDecision")
}

func (readOnlyTx) CreateGrant(context.Context, *store.Grant) error {
	return readOnly("CreateGrant")
}

func (readOnlyTx) UpdateGrant(context.Context, *store.Grant) error {
	return readOnly("UpdateGrant")
}

func (readOnlyTx) CreateSession(context.Context, *store.Session) error {
	return readOnly("CreateSession")
}

func (readOnlyTx) UpdateSession(context.Context, *store.Session) error {
	return readOnly("UpdateSession")
}

func (readOnlyTx) AppendEvent(context.Context, *store.Event) error {
	return readOnly("AppendEvent")
}

func (readOnlyTx) CreateCredential(context.Context, *store.Credential) error {
	return readOnly("CreateCredential")
}

func (readOnlyTx) UpdateCredential(context.Context, *store.Credential) error {
	return readOnly("UpdateCredential")
}

func (readOnlyTx) EnqueueOutbox(context.Context, []*store.OutboxItem) error {
	return readOnly("EnqueueOutbox")
}

func (readOnlyTx) UpdateOutbox(context.Context, *store.OutboxItem) error {
	return readOnly("UpdateOutbox")
}

func (readOnlyTx) DeleteOutbox(context.Context, int64) error {
	return readOnly("DeleteOutbox")
}

func (readOnlyTx) DueOutbox(context.Context, time.Time, int) ([]*store.OutboxItem, error) {
	return nil, readOnly("DueOutbox")
}

func readOnly(method string) error { return fmt.Errorf("%w: %s", errReadOnly, method) }
