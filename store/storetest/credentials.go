package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/jitgate/jitgate/store"
)

func credentialID(c *store.Credential) int64 { return c.ID }

func createCredential(t *testing.T, s store.Store, c *store.Credential) *store.Credential {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateCredential(context.Background(), c) })
	return c
}

func testCredentials(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"create, update and list": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			c := createCredential(t, s, newCredential(g.ID))
			if c.ID == 0 {
				t.Fatal("ID not set by CreateCredential")
			}
			c.State = store.CredentialRevoked
			c.RevokedAt = at(199)
			update(t, s, func(tx store.Tx) error { return tx.UpdateCredential(ctx, c) })

			got, err := s.Credentials(ctx, store.CredentialFilter{GrantID: g.ID})
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d credentials, want 1", len(got))
			}
			checkEqual(t, got[0], c)
		},

		"missing grant": func(t *testing.T, s store.Store) {
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateCredential(ctx, newCredential(999)) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateCredential for grant 999: error = %v, want ErrNotFound", err)
			}
		},

		"update missing": func(t *testing.T, s store.Store) {
			c := newCredential(1)
			c.ID = 999
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateCredential(ctx, c) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateCredential(999) error = %v, want ErrNotFound", err)
			}
		},

		"filter": func(t *testing.T, s store.Store) {
			g1 := createGrant(t, s, newGrant(0))
			g2 := createGrant(t, s, newGrant(0))
			a := createCredential(t, s, newCredential(g1.ID))
			b := newCredential(g1.ID)
			b.State, b.Target = store.CredentialRevoked, "billing"
			createCredential(t, s, b)
			c := createCredential(t, s, newCredential(g2.ID))

			cases := []struct {
				name   string
				filter store.CredentialFilter
				want   []int64
			}{
				{"all newest first", store.CredentialFilter{}, []int64{c.ID, b.ID, a.ID}},
				{"grant", store.CredentialFilter{GrantID: g1.ID}, []int64{b.ID, a.ID}},
				{"target", store.CredentialFilter{Target: "billing"}, []int64{b.ID}},
				{"state", store.CredentialFilter{States: []store.CredentialState{store.CredentialLive}}, []int64{c.ID, a.ID}},
				{"two states", store.CredentialFilter{States: []store.CredentialState{store.CredentialLive, store.CredentialRevoked}}, []int64{c.ID, b.ID, a.ID}},
				{"grant and state", store.CredentialFilter{GrantID: g1.ID, States: []store.CredentialState{store.CredentialRevoked}}, []int64{b.ID}},
			}
			for _, tc := range cases {
				got, err := s.Credentials(ctx, tc.filter)
				if err != nil {
					t.Fatalf("%s: Credentials: %v", tc.name, err)
				}
				checkIDs(t, tc.name, ids(got, credentialID), tc.want)
			}
		},
	})
}
