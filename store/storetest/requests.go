package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func requestID(r *store.Request) int64 { return r.ID }

func testRequests(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"create and read": func(t *testing.T, s store.Store) {
			first := createRequest(t, s, newRequest(1))
			second := createRequest(t, s, newRequest(2))
			if first.ID == 0 || first.ID == second.ID {
				t.Fatalf("IDs %d and %d, want distinct non-zero", first.ID, second.ID)
			}
			if first.Version != 1 {
				t.Errorf("Version = %d after create, want 1", first.Version)
			}
			got, err := s.Request(ctx, first.ID)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkEqual(t, got, first)
		},

		"zero and zoned times": func(t *testing.T, s store.Store) {
			want := newRequest(1)
			want.DecidedAt = time.Time{}
			want.CreatedAt = time.Date(2026, 3, 14, 11, 0, 0, 123456000, time.FixedZone("CET", 3600))
			want.ExpiresAt = time.Unix(0, 0)
			createRequest(t, s, want)
			got, err := s.Request(ctx, want.ID)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkEqual(t, got, want)
			if !got.DecidedAt.IsZero() {
				t.Errorf("DecidedAt = %v, want the zero time", got.DecidedAt)
			}
		},

		"missing": func(t *testing.T, s store.Store) {
			if _, err := s.Request(ctx, 999); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Request(999) error = %v, want ErrNotFound", err)
			}
		},

		"filter": func(t *testing.T, s store.Store) {
			a := newRequest(1)
			b := newRequest(2)
			b.State, b.Kind, b.Target, b.Principal = store.RequestApproved, "postgres", "orders", "readonly"
			c := newRequest(1)
			c.State, c.Target = store.RequestDenied, "web-2"
			for _, r := range []*store.Request{a, b, c} {
				createRequest(t, s, r)
			}

			cases := []struct {
				name   string
				filter store.RequestFilter
				want   []int64
			}{
				{"all newest first", store.RequestFilter{}, []int64{c.ID, b.ID, a.ID}},
				{"one state", store.RequestFilter{States: []store.RequestState{store.RequestPending}}, []int64{a.ID}},
				{"two states", store.RequestFilter{States: []store.RequestState{store.RequestApproved, store.RequestDenied}}, []int64{c.ID, b.ID}},
				{"requester", store.RequestFilter{Requester: a.Requester}, []int64{c.ID, a.ID}},
				{"kind", store.RequestFilter{Kind: "postgres"}, []int64{b.ID}},
				{"target", store.RequestFilter{Target: "web-1"}, []int64{a.ID}},
				{"principal", store.RequestFilter{Principal: "deploy"}, []int64{c.ID, a.ID}},
				{"combined", store.RequestFilter{Requester: a.Requester, Target: "web-2"}, []int64{c.ID}},
				{"no match", store.RequestFilter{Requester: "nobody"}, nil},
				{"limit", store.RequestFilter{Limit: 2}, []int64{c.ID, b.ID}},
			}
			for _, tc := range cases {
				got, err := s.Requests(ctx, tc.filter)
				if err != nil {
					t.Fatalf("%s: Requests: %v", tc.name, err)
				}
				checkIDs(t, tc.name, ids(got, requestID), tc.want)
			}
		},

		"update": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			r.State = store.RequestApproved
			r.Stage = 3
			r.DecidedAt = at(50)
			update(t, s, func(tx store.Tx) error { return tx.UpdateRequest(ctx, r) })
			if r.Version != 2 {
				t.Errorf("Version = %d after update, want 2", r.Version)
			}
			got, err := s.Request(ctx, r.ID)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkEqual(t, got, r)
		},

		"stale version": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			stale := *r
			r.Reason = "first writer"
			update(t, s, func(tx store.Tx) error { return tx.UpdateRequest(ctx, r) })

			stale.Reason = "second writer"
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateRequest(ctx, &stale) })
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("stale UpdateRequest error = %v, want ErrConflict", err)
			}
			if stale.Version != 1 {
				t.Errorf("Version = %d after a conflict, want it unchanged at 1", stale.Version)
			}
			got, err := s.Request(ctx, r.ID)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got.Reason != "first writer" || got.Version != 2 {
				t.Errorf("stored Reason %q version %d, want %q version 2", got.Reason, got.Version, "first writer")
			}
		},

		"update missing": func(t *testing.T, s store.Store) {
			r := newRequest(1)
			r.ID, r.Version = 999, 1
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateRequest(ctx, r) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateRequest(999) error = %v, want ErrNotFound", err)
			}
		},

		"concurrent updates": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			const writers = 8
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				mine := *r // every writer starts from version 1
				wg.Go(func() {
					errs[i] = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateRequest(ctx, &mine) })
				})
			}
			wg.Wait()

			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: error = %v, want nil or ErrConflict", i, err)
				}
			}
			if won != 1 {
				t.Errorf("%d writers succeeded, want exactly 1", won)
			}
		},
	})
}
