package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func testDecisions(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"add and list in order": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			other := createRequest(t, s, newRequest(2))
			first := &store.Decision{RequestID: r.ID, Approver: "bob", Verdict: store.VerdictApprove, Stage: 1, Comment: "ok", MaxDuration: 30 * time.Minute, At: at(10)}
			second := &store.Decision{RequestID: r.ID, Approver: "carol", Verdict: store.VerdictDeny, Stage: 2, Comment: "freeze", At: at(5)}
			elsewhere := &store.Decision{RequestID: other.ID, Approver: "dave", Verdict: store.VerdictReview, At: at(7)}
			update(t, s, func(tx store.Tx) error {
				for _, d := range []*store.Decision{first, second, elsewhere} {
					if err := tx.AddDecision(ctx, d); err != nil {
						return err
					}
				}
				return nil
			})
			if first.ID == 0 || first.ID == second.ID {
				t.Fatalf("IDs %d and %d, want distinct non-zero", first.ID, second.ID)
			}

			got, err := s.Decisions(ctx, r.ID)
			if err != nil {
				t.Fatalf("Decisions: %v", err)
			}
			if len(got) != 2 {
				t.Fatalf("got %d decisions, want 2", len(got))
			}
			checkEqual(t, got[0], first)
			checkEqual(t, got[1], second)
		},

		"none": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			got, err := s.Decisions(ctx, r.ID)
			if err != nil || len(got) != 0 {
				t.Errorf("Decisions = %v, %v; want none and no error", got, err)
			}
		},

		"missing request": func(t *testing.T, s store.Store) {
			d := &store.Decision{RequestID: 999, Approver: "bob", Verdict: store.VerdictApprove, At: at(1)}
			err := s.Update(ctx, func(tx store.Tx) error { return tx.AddDecision(ctx, d) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("AddDecision for request 999: error = %v, want ErrNotFound", err)
			}
		},
	})
}
