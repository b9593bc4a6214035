package approval

import (
	"context"
	"errors"

	"github.com/jitgate/jitgate/store"
)

// WaitDecision blocks until request id leaves the pending state (approved,
// denied, expired or cancelled) or ctx ends, and returns the request with
// its grant when approved. It wakes on the engine's change broadcast, so
// it returns within milliseconds of the decision.
func (e *Engine) WaitDecision(ctx context.Context, id int64) (*store.Request, *store.Grant, error) {
	for {
		wake := e.changes()
		r, err := e.store.Request(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, refuse(ErrNotFound, "request %d does not exist", id)
		}
		if err != nil {
			return nil, nil, err
		}
		if r.State != store.RequestPending {
			if r.State != store.RequestApproved {
				return r, nil, nil
			}
			g, err := e.store.GrantByRequest(ctx, id)
			return r, g, err
		}
		select {
		case <-ctx.Done():
			return r, nil, context.Cause(ctx)
		case <-wake:
		}
	}
}

// WaitGrant blocks until grant id differs from version (it was extended,
// revoked or ended) or ctx ends, and returns the grant as stored. It
// wakes only on changes that wrote a grant, so sessions opening and
// closing do not make every watcher read the store.
func (e *Engine) WaitGrant(ctx context.Context, id, version int64) (*store.Grant, error) {
	for {
		wake := e.grantChanges()
		g, err := e.store.Grant(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, refuse(ErrNotFound, "grant %d does not exist", id)
		}
		if err != nil {
			return nil, err
		}
		if g.Version != version {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return g, context.Cause(ctx)
		case <-wake:
		}
	}
}
