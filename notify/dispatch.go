package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jitgate/jitgate/store"
)

// scanHorizon is the NextAt bound of the outbox scan. It lies far enough
// ahead to return every queued item (a backoff never exceeds Backoff.Max)
// and inside the range that stores can hold.
var scanHorizon = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// plan is the outcome of one dispatch: the items to send now, the items
// to give up because their endpoint left the config, and when the next
// item comes due.
type plan struct {
	send   []*store.OutboxItem
	orphan []*store.OutboxItem
	next   time.Time // zero when nothing waits on time
}

// orphanGrace is how long an item of a webhook missing from this process's
// config stays queued. Processes sharing a store may run different configs
// during a rollout, and one that lacks a new webhook must not delete the
// items that the others will send.
const orphanGrace = 24 * time.Hour

// pick chooses, for every endpoint that is not busy, its oldest queued
// item, and sends it if it is due. An endpoint whose oldest item is not due
// yet (it failed and waits for a retry, or another process claimed it)
// sends nothing, so its deliveries keep their order. Items of unknown
// endpoints older than orphanGrace are returned as orphans. items is every
// queued item up to the scan limit.
//
// NOTE: with more items queued than the scan limit, an endpoint's oldest
// item can be outside the scan, and a newer item of it can go first.
func pick(items []*store.OutboxItem, now time.Time, known func(string) bool, busy map[string]bool) plan {
	oldest := map[string]*store.OutboxItem{}
	var p plan
	for _, it := range items {
		if !known(it.Endpoint) {
			if now.Sub(it.CreatedAt) >= orphanGrace {
				p.orphan = append(p.orphan, it)
			}
			continue
		}
		if cur := oldest[it.Endpoint]; cur == nil || it.ID < cur.ID {
			oldest[it.Endpoint] = it
		}
	}
	for name, it := range oldest {
		switch {
		case busy[name]:
			// The running delivery's result wakes the dispatcher.
		case !it.NextAt.After(now):
			p.send = append(p.send, it)
		case p.next.IsZero() || it.NextAt.Before(p.next):
			p.next = it.NextAt
		}
	}
	return p
}

// dispatch claims the items to send now in one transaction and gives up
// the items of unknown endpoints. It returns the claimed items and when to
// look again.
func (n *Notifier) dispatch(ctx context.Context, busy map[string]bool) ([]*store.OutboxItem, time.Time, error) {
	var p plan
	err := n.store.Update(ctx, func(tx store.Tx) error {
		items, err := tx.DueOutbox(ctx, scanHorizon, n.scanLimit)
		if err != nil {
			return err
		}
		now := n.clock.Now()
		p = pick(items, now, n.known, busy)
		for _, it := range p.send {
			// The claim: no other dispatcher picks the item until it runs
			// out, which is after this attempt has timed out.
			it.NextAt = now.Add(n.byName[it.Endpoint].timeout + claimMargin)
			if err := tx.UpdateOutbox(ctx, it); err != nil {
				return fmt.Errorf("claiming outbox item %d: %w", it.ID, err)
			}
		}
		for _, it := range p.orphan {
			if err := tx.DeleteOutbox(ctx, it.ID); err != nil {
				return fmt.Errorf("removing outbox item %d: %w", it.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("notify: dispatching outbox: %w", err)
	}
	for _, it := range p.orphan {
		// A payload that does not decode still gets its line, without ids.
		env, _ := decodeEnvelope(it.Payload)
		n.stats.add(it.Endpoint, 0, 0, 1)
		n.itemLogger(it, env).Error("webhook delivery given up: no webhook of that name has been configured for a day",
			"attempts", it.Attempts, "queued_at", it.CreatedAt)
	}
	return p.send, p.next, nil
}

func (n *Notifier) known(name string) bool {
	return n.byName[name] != nil
}
