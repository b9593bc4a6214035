package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/jitgate/jitgate/store"
)

// collectEvents returns the events that Events passes to its callback.
func collectEvents(t *testing.T, r store.Reader, f store.EventFilter) []*store.Event {
	t.Helper()
	var out []*store.Event
	err := r.Events(context.Background(), f, func(e *store.Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Events(%+v): %v", f, err)
	}
	return out
}

func seqs(events []*store.Event) []int64 {
	return ids(events, func(e *store.Event) int64 { return e.Seq })
}

func testEvents(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"empty log": func(t *testing.T, s store.Store) {
			if _, err := s.LastEvent(ctx); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LastEvent on an empty log: error = %v, want ErrNotFound", err)
			}
			if got := collectEvents(t, s, store.EventFilter{}); len(got) != 0 {
				t.Errorf("Events on an empty log returned %d events", len(got))
			}
		},

		"append assigns seq": func(t *testing.T, s store.Store) {
			events := []*store.Event{newEvent(1), newEvent(2), newEvent(3)}
			appendEvents(t, s, events[0])
			appendEvents(t, s, events[1:]...)
			for i, e := range events {
				if e.Seq != int64(i+1) {
					t.Errorf("event %d: Seq = %d, want %d", i, e.Seq, i+1)
				}
			}

			got := collectEvents(t, s, store.EventFilter{})
			if len(got) != len(events) {
				t.Fatalf("Events returned %d events, want %d", len(got), len(events))
			}
			for i := range events {
				checkEqual(t, got[i], events[i])
			}
			last, err := s.LastEvent(ctx)
			if err != nil {
				t.Fatalf("LastEvent: %v", err)
			}
			checkEqual(t, last, events[2])
		},

		"append with seq set": func(t *testing.T, s store.Store) {
			first := newEvent(1)
			first.Seq = 1
			appendEvents(t, s, first)

			for _, seq := range []int64{1, 3} {
				e := newEvent(2)
				e.Seq = seq
				err := s.Update(ctx, func(tx store.Tx) error { return tx.AppendEvent(ctx, e) })
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("AppendEvent with Seq %d after seq 1: error = %v, want ErrConflict", seq, err)
				}
			}

			next := newEvent(2)
			next.Seq = 2
			appendEvents(t, s, next)
			checkIDs(t, "after appending seq 2", seqs(collectEvents(t, s, store.EventFilter{})), []int64{1, 2})
		},

		"read inside the transaction": func(t *testing.T, s store.Store) {
			appendEvents(t, s, newEvent(1))
			update(t, s, func(tx store.Tx) error {
				e := newEvent(2)
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
				last, err := tx.LastEvent(ctx)
				if err != nil {
					return err
				}
				if last.Seq != 2 {
					t.Errorf("LastEvent in the transaction: Seq = %d, want 2", last.Seq)
				}
				checkIDs(t, "Events in the transaction", seqs(collectEvents(t, tx, store.EventFilter{})), []int64{1, 2})
				return nil
			})
		},

		"filter": func(t *testing.T, s store.Store) {
			var events []*store.Event
			for n := 1; n <= 5; n++ {
				events = append(events, newEvent(n))
			}
			events[3].RequestID = events[1].RequestID
			events[4].GrantID = events[0].GrantID
			appendEvents(t, s, events...)

			cases := []struct {
				name   string
				filter store.EventFilter
				want   []int64
			}{
				{"all oldest first", store.EventFilter{}, []int64{1, 2, 3, 4, 5}},
				{"after seq", store.EventFilter{AfterSeq: 3}, []int64{4, 5}},
				{"after the last seq", store.EventFilter{AfterSeq: 5}, nil},
				{"since is inclusive", store.EventFilter{Since: at(2)}, []int64{2, 3, 4, 5}},
				{"until is exclusive", store.EventFilter{Until: at(4)}, []int64{1, 2, 3}},
				{"since and until", store.EventFilter{Since: at(2), Until: at(4)}, []int64{2, 3}},
				{"request", store.EventFilter{RequestID: events[1].RequestID}, []int64{2, 4}},
				{"grant", store.EventFilter{GrantID: events[0].GrantID}, []int64{1, 5}},
				{"grant after seq", store.EventFilter{GrantID: events[0].GrantID, AfterSeq: 1}, []int64{5}},
			}
			for _, tc := range cases {
				checkIDs(t, tc.name, seqs(collectEvents(t, s, tc.filter)), tc.want)
			}
		},

		"callback error stops": func(t *testing.T, s store.Store) {
			appendEvents(t, s, newEvent(1), newEvent(2), newEvent(3))
			errStop := errors.New("stop here")
			calls := 0
			err := s.Events(ctx, store.EventFilter{}, func(e *store.Event) error {
				calls++
				if e.Seq == 2 {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, errStop) {
				t.Errorf("Events error = %v, want the callback's error", err)
			}
			if calls != 2 {
				t.Errorf("callback ran %d times, want 2", calls)
			}
		},
	})
}
