package notify

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jitgate/jitgate/store"
)

// resultTimeout bounds the write of an attempt's result. The write runs
// even while Run stops, so that a delivered item is not sent again after a
// restart.
const resultTimeout = 10 * time.Second

// lastErrorMax caps the error text stored with an item.
const lastErrorMax = 500

// deliver makes one attempt to send a claimed item and records the result.
func (n *Notifier) deliver(ctx context.Context, it *store.OutboxItem) {
	ep := n.byName[it.Endpoint]
	env, err := decodeEnvelope(it.Payload)
	log := n.itemLogger(it, env)
	if err != nil {
		n.giveUp(ctx, it, log, err)
		return
	}

	attemptCtx, cancel := context.WithTimeout(ctx, ep.timeout)
	sendErr := n.send(attemptCtx, ep, it.EventType, env)
	cancel()

	switch {
	case sendErr == nil:
		n.delivered(ctx, it, log)
	case ctx.Err() != nil:
		n.interrupted(ctx, it, log)
	default:
		n.failed(ctx, ep, it, log, sendErr)
	}
}

func (n *Notifier) delivered(ctx context.Context, it *store.OutboxItem, log *slog.Logger) {
	n.stats.add(it.Endpoint, 1, 0, 0)
	log.Info("webhook delivered", "attempt", it.Attempts+1)
	n.write(ctx, log, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteOutbox(ctx, it.ID)
	})
}

// interrupted releases an item whose attempt Run's stop cut short. The
// attempt is not counted, and the item is due at once after a restart.
func (n *Notifier) interrupted(ctx context.Context, it *store.OutboxItem, log *slog.Logger) {
	log.Info("webhook attempt interrupted by shutdown; it is sent again on the next start", "attempt", it.Attempts+1)
	it.NextAt = n.clock.Now()
	n.write(ctx, log, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateOutbox(ctx, it)
	})
}

// failed counts a failed attempt and schedules the next one, or gives the
// item up after the endpoint's MaxAttempts.
func (n *Notifier) failed(ctx context.Context, ep *endpoint, it *store.OutboxItem, log *slog.Logger, sendErr error) {
	n.stats.add(it.Endpoint, 0, 1, 0)
	it.Attempts++
	it.LastError = cut(sendErr.Error(), lastErrorMax)
	if it.Attempts >= ep.maxAttempts {
		n.giveUp(ctx, it, log, sendErr)
		return
	}
	wait := n.backoff.Delay(it.Attempts, rand.Float64())
	it.NextAt = n.clock.Now().Add(wait)
	log.Warn("webhook attempt failed; retrying",
		"attempt", it.Attempts, "max_attempts", ep.maxAttempts, "retry_in", wait, "err", sendErr)
	n.write(ctx, log, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateOutbox(ctx, it)
	})
}

// giveUp deletes an item that will never be delivered and logs that at
// error level. The event stays in the audit log.
func (n *Notifier) giveUp(ctx context.Context, it *store.OutboxItem, log *slog.Logger, cause error) {
	n.stats.add(it.Endpoint, 0, 0, 1)
	log.Error("webhook delivery given up", "attempts", it.Attempts, "err", cause)
	n.write(ctx, log, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteOutbox(ctx, it.ID)
	})
}

// write stores an attempt's result. On failure the item keeps its claim,
// and once that runs out it is sent again.
func (n *Notifier) write(ctx context.Context, log *slog.Logger, fn func(context.Context, store.Tx) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultTimeout)
	defer cancel()
	err := n.store.Update(ctx, func(tx store.Tx) error {
		return fn(ctx, tx)
	})
	if err != nil {
		log.Error("recording the webhook attempt failed; the item is sent again once its claim runs out", "err", err)
	}
}

// itemLogger names the endpoint, event and ids on every line about it.
// It never adds the URL or the secret.
func (n *Notifier) itemLogger(it *store.OutboxItem, env envelope) *slog.Logger {
	return n.log.With(
		"webhook", it.Endpoint, "event", it.EventType, "outbox_item", it.ID,
		"delivery", env.Delivery, "request", env.RequestID, "grant", env.GrantID,
	)
}
