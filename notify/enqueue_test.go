package notify

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

func TestNotifyQueuesSubscribedEndpoints(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	created := hook(t, "created-only", "http://127.0.0.1:1/a")
	created.Events = []string{"request.created"}
	all := hook(t, "all", "http://127.0.0.1:1/b")
	h := newHarness(t, st, []configs.Webhook{created, all}, nil)

	cases := []struct {
		event string
		want  []string // endpoints, in config order
	}{
		{"request.created", []string{"created-only", "all"}},
		{"request.denied", []string{"all"}},
	}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			before := len(outbox(t, st))
			h.notify(t, approval.Notice{Event: tc.event, Actor: "bob", Request: sampleRequest()})
			items := outbox(t, st)[before:]
			if len(items) != len(tc.want) {
				t.Fatalf("queued %d items, want %d", len(items), len(tc.want))
			}
			delivery := map[string]bool{}
			for i, it := range items {
				if it.Endpoint != tc.want[i] || it.EventType != tc.event {
					t.Errorf("item %d is %s for %s, want %s for %s", i, it.EventType, it.Endpoint, tc.event, tc.want[i])
				}
				env, err := decodeEnvelope(it.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if delivery[env.Delivery] {
					t.Errorf("two endpoints share delivery id %s", env.Delivery)
				}
				delivery[env.Delivery] = true
				if env.RequestID != 42 {
					t.Errorf("envelope request id = %d, want 42", env.RequestID)
				}
			}
		})
	}
}

func TestNotifyRolledBackQueuesNothing(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "all", "http://127.0.0.1:1/")}, nil)
	failed := errors.New("the change failed after Notify")
	err := st.Update(context.Background(), func(tx store.Tx) error {
		if err := h.n.Notify(context.Background(), tx, approval.Notice{Event: "request.created", Request: sampleRequest()}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update error = %v, want %v", err, failed)
	}
	if items := outbox(t, st); len(items) != 0 {
		t.Errorf("outbox holds %d items after the rollback, want 0", len(items))
	}
}

func TestNotifyReadsRequestOfGrantEvent(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	h := newHarness(t, st, []configs.Webhook{hook(t, "all", "http://127.0.0.1:1/")}, nil)
	req := sampleRequest()
	req.ID = 0
	err := st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateRequest(context.Background(), req); err != nil {
			return err
		}
		g := sampleGrant()
		g.ID, g.RequestID = 0, req.ID
		if err := tx.CreateGrant(context.Background(), g); err != nil {
			return err
		}
		return h.n.Notify(context.Background(), tx, approval.Notice{Event: "grant.ended", Grant: g})
	})
	if err != nil {
		t.Fatal(err)
	}

	items := outbox(t, st)
	if len(items) != 1 {
		t.Fatalf("queued %d items, want 1", len(items))
	}
	env, err := decodeEnvelope(items[0].Payload)
	if err != nil {
		t.Fatal(err)
	}

	p := decodeJSONPayload(t, env.Body)
	if p.Request == nil || p.Request.Reason != req.Reason {
		t.Errorf("payload request = %+v, want the stored request with its reason", p.Request)
	}
	if p.Summary != "Grant 1 of alice ended: SSH access as deploy on web-1" {
		t.Errorf("summary = %q", p.Summary)
	}
}
