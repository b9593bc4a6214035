package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func sessionID(s *store.Session) int64 { return s.ID }

func createSession(t *testing.T, s store.Store, sess *store.Session) *store.Session {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(context.Background(), sess) })
	return sess
}

func testSessions(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"create and read": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			sess := createSession(t, s, newSession(g.ID))
			if sess.ID == 0 {
				t.Fatal("ID not set by CreateSession")
			}
			got, err := s.Session(ctx, sess.ID)
			if err != nil {
				t.Fatalf("Session: %v", err)
			}
			checkEqual(t, got, sess)
		},

		"missing": func(t *testing.T, s store.Store) {
			if _, err := s.Session(ctx, 999); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Session(999) error = %v, want ErrNotFound", err)
			}
		},

		"missing grant": func(t *testing.T, s store.Store) {
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, newSession(999)) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateSession for grant 999: error = %v, want ErrNotFound", err)
			}
		},

		"update": func(t *testing.T, s store.Store) {
			g := createGrant(t, s, newGrant(0))
			sess := newSession(g.ID)
			sess.EndedAt = time.Time{}
			createSession(t, s, sess)
			sess.State = store.SessionClosed
			sess.EndedAt = at(190)
			sess.EndReason = "window-end"
			sess.Recording = "recordings/2.cast"
			update(t, s, func(tx store.Tx) error { return tx.UpdateSession(ctx, sess) })
			got, err := s.Session(ctx, sess.ID)
			if err != nil {
				t.Fatalf("Session: %v", err)
			}
			checkEqual(t, got, sess)
		},

		"update missing": func(t *testing.T, s store.Store) {
			sess := newSession(1)
			sess.ID = 999
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateSession(ctx, sess) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateSession(999) error = %v, want ErrNotFound", err)
			}
		},

		"filter": func(t *testing.T, s store.Store) {
			g1 := createGrant(t, s, newGrant(0))
			g2 := createGrant(t, s, newGrant(0))
			a := createSession(t, s, newSession(g1.ID))
			b := newSession(g1.ID)
			b.State, b.Person = store.SessionClosed, "bob"
			createSession(t, s, b)
			c := createSession(t, s, newSession(g2.ID))

			cases := []struct {
				name   string
				filter store.SessionFilter
				want   []int64
			}{
				{"all newest first", store.SessionFilter{}, []int64{c.ID, b.ID, a.ID}},
				{"grant", store.SessionFilter{GrantID: g1.ID}, []int64{b.ID, a.ID}},
				{"state", store.SessionFilter{States: []store.SessionState{store.SessionOpen}}, []int64{c.ID, a.ID}},
				{"person", store.SessionFilter{Person: "bob"}, []int64{b.ID}},
				{"grant and state", store.SessionFilter{GrantID: g1.ID, States: []store.SessionState{store.SessionOpen}}, []int64{a.ID}},
				{"limit", store.SessionFilter{Limit: 2}, []int64{c.ID, b.ID}},
			}
			for _, tc := range cases {
				got, err := s.Sessions(ctx, tc.filter)
				if err != nil {
					t.Fatalf("%s: Sessions: %v", tc.name, err)
				}
				checkIDs(t, tc.name, ids(got, sessionID), tc.want)
			}
		},
	})
}
