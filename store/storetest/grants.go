package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func grantID(g *store.Grant) int64 { return g.ID }

func testGrants(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"create and read": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			if g.ID == 0 || g.Version != 1 {
				t.Fatalf("ID %d version %d after create, want non-zero and 1", g.ID, g.Version)
			}
			got, err := s.Grant(ctx, g.ID)
			if err != nil {
				t.Fatalf("Grant: %v", err)
			}
			checkEqual(t, got, g)

			byRequest, err := s.GrantByRequest(ctx, g.RequestID)
			if err != nil {
				t.Fatalf("GrantByRequest: %v", err)
			}
			checkEqual(t, byRequest, g)
		},

		"missing": func(t *testing.T, s store.Store) {
			if _, err := s.Grant(ctx, 999); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Grant(999) error = %v, want ErrNotFound", err)
			}
			r := createRequest(t, s, newRequest(1))
			if _, err := s.GrantByRequest(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GrantByRequest of a request without grant: error = %v, want ErrNotFound", err)
			}
		},

		"second grant for a request": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateGrant(ctx, newGrant(g.RequestID)) })
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("second CreateGrant for request %d: error = %v, want ErrConflict", g.RequestID, err)
			}
		},

		"missing request": func(t *testing.T, s store.Store) {
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateGrant(ctx, newGrant(999)) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateGrant for request 999: error = %v, want ErrNotFound", err)
			}
		},

		"filter": func(t *testing.T, s store.Store) {
			a := createGrant(t, s, newGrant(0))
			b := newGrant(0)
			b.State, b.Requester, b.Kind, b.Target, b.Principal = store.GrantRevoked, "bob", "ssh", "web-1", "deploy"
			b.Start, b.End = at(150), at(250)
			createGrant(t, s, b)
			c := newGrant(0)
			c.State = store.GrantEnded
			c.Start, c.End = time.Time{}, at(120)
			createGrant(t, s, c)

			cases := []struct {
				name   string
				filter store.GrantFilter
				want   []int64
			}{
				{"all newest first", store.GrantFilter{}, []int64{c.ID, b.ID, a.ID}},
				{"one state", store.GrantFilter{States: []store.GrantState{store.GrantActive}}, []int64{a.ID}},
				{"two states", store.GrantFilter{States: []store.GrantState{store.GrantActive, store.GrantEnded}}, []int64{c.ID, a.ID}},
				{"requester", store.GrantFilter{Requester: "bob"}, []int64{b.ID}},
				{"kind", store.GrantFilter{Kind: "postgres"}, []int64{c.ID, a.ID}},
				{"target", store.GrantFilter{Target: "web-1"}, []int64{b.ID}},
				{"principal", store.GrantFilter{Principal: "readonly"}, []int64{c.ID, a.ID}},
				{"limit", store.GrantFilter{Limit: 1}, []int64{c.ID}},
				{"active before every start", store.GrantFilter{ActiveAt: at(99)}, []int64{c.ID}},
				{"active at a start", store.GrantFilter{ActiveAt: at(100)}, []int64{c.ID, a.ID}},
				{"active at an end", store.GrantFilter{ActiveAt: at(120)}, []int64{a.ID}},
				{"active in an overlap", store.GrantFilter{ActiveAt: at(199)}, []int64{b.ID, a.ID}},
				{"active at the last end", store.GrantFilter{ActiveAt: at(250)}, nil},
				{"active and state", store.GrantFilter{ActiveAt: at(160), States: []store.GrantState{store.GrantActive}}, []int64{a.ID}},
			}
			for _, tc := range cases {
				got, err := s.Grants(ctx, tc.filter)
				if err != nil {
					t.Fatalf("%s: Grants: %v", tc.name, err)
				}
				checkIDs(t, tc.name, ids(got, grantID), tc.want)
			}
		},

		"update": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			g.End = at(400)
			g.Extensions++
			g.Extended += 10 * time.Minute
			update(t, s, func(tx store.Tx) error { return tx.UpdateGrant(ctx, g) })
			if g.Version != 2 {
				t.Errorf("Version = %d after update, want 2", g.Version)
			}
			got, err := s.Grant(ctx, g.ID)
			if err != nil {
				t.Fatalf("Grant: %v", err)
			}
			checkEqual(t, got, g)
		},

		"stale version": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			stale := *g
			g.State = store.GrantRevoked
			update(t, s, func(tx store.Tx) error { return tx.UpdateGrant(ctx, g) })
			stale.State = store.GrantEnded
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateGrant(ctx, &stale) })
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("stale UpdateGrant error = %v, want ErrConflict", err)
			}
			got, err := s.Grant(ctx, g.ID)
			if err != nil {
				t.Fatalf("Grant: %v", err)
			}
			if got.State != store.GrantRevoked {
				t.Errorf("stored State = %q, want %q", got.State, store.GrantRevoked)
			}
		},

		"update missing": func(t *testing.T, s store.Store) {
			g := newGrant(0)
			g.ID, g.Version = 999, 1
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateGrant(ctx, g) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateGrant(999) error = %v, want ErrNotFound", err)
			}
		},
	})
}
