package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

// uncommittedReadTimeout bounds a read made while another transaction is
// open. A store whose reads wait for the writer, such as SQLite in memory,
// fails that read instead of blocking the test.
const uncommittedReadTimeout = 500 * time.Millisecond

func testUpdate(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"error rolls back": func(t *testing.T, s store.Store) {
			errAbort := errors.New("abort")
			r := newRequest(1)
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
				return errAbort
			})
			if !errors.Is(err, errAbort) {
				t.Errorf("Update error = %v, want fn's error", err)
			}
			if got, _ := s.Requests(ctx, store.RequestFilter{}); len(got) != 0 {
				t.Errorf("%d requests stored after a failed Update, want 0", len(got))
			}
		},

		"panic rolls back": func(t *testing.T, s store.Store) {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic in fn did not reach the caller of Update")
					}
				}()
				_ = s.Update(ctx, func(tx store.Tx) error {
					if err := tx.CreateRequest(ctx, newRequest(1)); err != nil {
						return err
					}
					panic("fn panics")
				})
			}()
			if got, _ := s.Requests(ctx, store.RequestFilter{}); len(got) != 0 {
				t.Errorf("%d requests stored after a panicking Update, want 0", len(got))
			}
			// The store must still accept writes after the panic.
			createRequest(t, s, newRequest(2))
		},

		"cancelled context": func(t *testing.T, s store.Store) {
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			ran := false
			err := s.Update(cancelled, func(tx store.Tx) error {
				ran = true
				return tx.CreateRequest(cancelled, newRequest(1))
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update with a cancelled context: error = %v, want context.Canceled", err)
			}
			if got, _ := s.Requests(ctx, store.RequestFilter{}); len(got) != 0 {
				t.Errorf("%d requests stored by a cancelled Update (fn ran: %v), want 0", len(got), ran)
			}
		},

		"transaction reads its writes": func(t *testing.T, s store.Store) {
			update(t, s, func(tx store.Tx) error {
				r := newRequest(1)
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
				got, err := tx.Request(ctx, r.ID)
				if err != nil {
					t.Errorf("Request inside the transaction: %v", err)
					return nil
				}
				checkEqual(t, got, r)
				return nil
			})
		},

		"uncommitted writes are hidden": func(t *testing.T, s store.Store) {
			update(t, s, func(tx store.Tx) error {
				r := newRequest(1)
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
				readCtx, cancel := context.WithTimeout(ctx, uncommittedReadTimeout)
				defer cancel()
				_, err := s.Request(readCtx, r.ID)
				switch {
				case err == nil:
					t.Error("a read outside the transaction returned its uncommitted request")
				case !errors.Is(err, store.ErrNotFound):
					t.Logf("the read outside the transaction failed instead of missing the request: %v", err)
				}
				return nil
			})
		},

		"concurrent creates": func(t *testing.T, s store.Store) {
			const writers, each = 8, 10
			var wg sync.WaitGroup
			created := make([][]int64, writers)
			for w := range writers {
				wg.Go(func() {
					for range each {
						r := newRequest(w)
						if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateRequest(ctx, r) }); err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
						created[w] = append(created[w], r.ID)
					}
				})
			}
			wg.Wait()

			seen := make(map[int64]bool)
			for _, list := range created {
				for _, id := range list {
					if seen[id] {
						t.Errorf("ID %d was assigned twice", id)
					}
					seen[id] = true
				}
			}
			stored, err := s.Requests(ctx, store.RequestFilter{})
			if err != nil {
				t.Fatalf("Requests: %v", err)
			}
			if len(stored) != writers*each || len(seen) != writers*each {
				t.Errorf("%d requests stored and %d distinct IDs, want %d", len(stored), len(seen), writers*each)
			}
		},
	})
}
