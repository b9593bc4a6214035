package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/jitgate/jitgate/store"
)

// signalled reports whether ch holds a value, without waiting: Update
// signals before it returns.
func signalled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func testChanges(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"commit signals every subscriber": func(t *testing.T, s store.Store) {
			first, cancelFirst := s.Changes()
			defer cancelFirst()
			second, cancelSecond := s.Changes()
			defer cancelSecond()
			createRequest(t, s, newRequest(1))
			if !signalled(first) || !signalled(second) {
				t.Error("a subscriber received no signal after a committed write")
			}
		},

		"buffer of one": func(t *testing.T, s store.Store) {
			ch, cancel := s.Changes()
			defer cancel()
			createRequest(t, s, newRequest(1))
			createRequest(t, s, newRequest(2))
			if !signalled(ch) {
				t.Fatal("no signal after two committed writes")
			}
			if signalled(ch) {
				t.Error("a second signal was buffered, want a buffer of one")
			}
		},

		"no signal without a commit": func(t *testing.T, s store.Store) {
			r := createRequest(t, s, newRequest(1))
			ch, cancel := s.Changes()
			defer cancel()

			errAbort := errors.New("abort")
			_ = s.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateRequest(ctx, newRequest(2)); err != nil {
					return err
				}
				return errAbort
			})
			if signalled(ch) {
				t.Error("a failed Update signalled")
			}

			update(t, s, func(tx store.Tx) error {
				_, err := tx.Request(ctx, r.ID)
				return err
			})
			if signalled(ch) {
				t.Error("a read-only Update signalled")
			}
		},

		"cancel stops delivery": func(t *testing.T, s store.Store) {
			ch, cancel := s.Changes()
			cancel()
			cancel() // a second call must be harmless
			createRequest(t, s, newRequest(1))
			if signalled(ch) {
				t.Error("a cancelled subscription received a signal")
			}
		},
	})
}
