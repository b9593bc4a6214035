package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/store"
)

// event is one notice with everything its payloads show, as of the
// transaction that raised it.
type event struct {
	Name     string
	Delivery string // unique per endpoint and notice
	Time     time.Time
	Actor    string
	Comment  string
	Request  *store.Request // nil when unknown
	Grant    *store.Grant   // nil before approval
	URL      string         // the request page, empty without a public URL
}

// Notify implements approval.Notifier: it renders the notice for every
// endpoint subscribed to its event and queues the payloads in tx, so they
// are sent only if tx commits, and sent even if the process stops right
// after.
func (n *Notifier) Notify(ctx context.Context, tx store.Tx, notice approval.Notice) error {
	var targets []*endpoint
	for _, ep := range n.endpoints {
		if ep.wants(notice.Event) {
			targets = append(targets, ep)
		}
	}
	if len(targets) == 0 {
		return nil
	}

	ev, err := n.newEvent(ctx, tx, notice)
	if err != nil {
		return err
	}
	items := make([]*store.OutboxItem, 0, len(targets))
	for _, ep := range targets {
		item, err := n.newItem(ep, ev)
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	if err := tx.EnqueueOutbox(ctx, items); err != nil {
		return fmt.Errorf("notify: queueing %s for %d webhooks: %w", notice.Event, len(items), err)
	}
	return nil
}

// newEvent fills in the request of a grant-only notice, so grant and
// session payloads can show the reason and ticket too.
func (n *Notifier) newEvent(ctx context.Context, tx store.Tx, notice approval.Notice) (event, error) {
	ev := event{
		Name:    notice.Event,
		Time:    n.clock.Now().UTC(),
		Actor:   notice.Actor,
		Comment: notice.Comment,
		Request: notice.Request,
		Grant:   notice.Grant,
	}
	if ev.Request == nil && ev.Grant != nil && ev.Grant.RequestID != 0 {
		r, err := tx.Request(ctx, ev.Grant.RequestID)
		switch {
		case err == nil:
			ev.Request = r
		case !errors.Is(err, store.ErrNotFound):
			return ev, fmt.Errorf("notify: reading request %d of grant %d: %w", ev.Grant.RequestID, ev.Grant.ID, err)
		}
	}
	if id := ev.requestID(); id != 0 && n.publicURL != "" {
		ev.URL = n.publicURL + "/requests/" + strconv.FormatInt(id, 10)
	}
	return ev, nil
}

func (e *event) requestID() int64 {
	switch {
	case e.Request != nil:
		return e.Request.ID
	case e.Grant != nil:
		return e.Grant.RequestID
	}
	return 0
}

func (e *event) grantID() int64 {
	if e.Grant != nil {
		return e.Grant.ID
	}
	return 0
}

// newItem renders ev for ep under a fresh delivery id.
func (n *Notifier) newItem(ep *endpoint, ev event) (*store.OutboxItem, error) {
	ev.Delivery = rand.Text()
	var body []byte
	var err error
	switch ep.format {
	case FormatSlack:
		body, err = renderSlack(ev)
	default:
		body, err = renderJSON(ev)
	}
	if err != nil {
		return nil, fmt.Errorf("notify: rendering %s for webhook %s: %w", ev.Name, ep.name, err)
	}
	payload, err := encodeEnvelope(envelope{
		Delivery:  ev.Delivery,
		Format:    ep.format,
		RequestID: ev.requestID(),
		GrantID:   ev.grantID(),
		Body:      body,
	})
	if err != nil {
		return nil, err
	}
	return &store.OutboxItem{
		Endpoint:  ep.name,
		EventType: ev.Name,
		Payload:   payload,
		NextAt:    ev.Time,
		CreatedAt: ev.Time,
	}, nil
}
