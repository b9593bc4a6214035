package notify

import (
	"slices"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func TestPick(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	item := func(id int64, endpoint string, dueIn time.Duration) *store.OutboxItem {
		return &store.OutboxItem{ID: id, Endpoint: endpoint, NextAt: now.Add(dueIn), CreatedAt: now.Add(-time.Minute)}
	}
	known := func(name string) bool { return name != "removed" }
	aged := func(it *store.OutboxItem) *store.OutboxItem {
		it.CreatedAt = now.Add(-orphanGrace)
		return it
	}

	cases := []struct {
		name       string
		items      []*store.OutboxItem
		busy       map[string]bool
		wantSend   []int64
		wantOrphan []int64
		wantNext   time.Duration // from now; -1 for no wake-up
	}{
		{
			name:     "oldest due item per endpoint",
			items:    []*store.OutboxItem{item(3, "a", 0), item(1, "a", 0), item(2, "b", -time.Second)},
			wantSend: []int64{1, 2},
			wantNext: -1,
		},
		{
			name:     "failed oldest holds newer items back",
			items:    []*store.OutboxItem{item(5, "a", 0), item(4, "a", time.Minute)},
			wantNext: time.Minute,
		},
		{
			name:     "busy endpoint waits for its delivery",
			items:    []*store.OutboxItem{item(1, "a", 0), item(2, "b", 0)},
			busy:     map[string]bool{"a": true},
			wantSend: []int64{2},
			wantNext: -1,
		},
		{
			name:     "earliest wake-up among endpoints",
			items:    []*store.OutboxItem{item(1, "a", 3*time.Second), item(2, "b", 2*time.Second)},
			wantNext: 2 * time.Second,
		},
		{
			name:     "recent item of an unknown endpoint kept",
			items:    []*store.OutboxItem{item(1, "removed", 0), item(2, "a", 0)},
			wantSend: []int64{2},
			wantNext: -1,
		},
		{
			name:       "day-old item of an unknown endpoint given up",
			items:      []*store.OutboxItem{aged(item(1, "removed", 0)), item(2, "a", 0)},
			wantSend:   []int64{2},
			wantOrphan: []int64{1},
			wantNext:   -1,
		},
		{
			name:     "empty outbox",
			wantNext: -1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pick(tc.items, now, known, tc.busy)
			if got := ids(p.send); !slices.Equal(got, tc.wantSend) {
				t.Errorf("send = %v, want %v", got, tc.wantSend)
			}
			if got := ids(p.orphan); !slices.Equal(got, tc.wantOrphan) {
				t.Errorf("orphan = %v, want %v", got, tc.wantOrphan)
			}
			switch {
			case tc.wantNext < 0 && !p.next.IsZero():
				t.Errorf("next = %s, want no wake-up", p.next)
			case tc.wantNext >= 0 && !p.next.Equal(now.Add(tc.wantNext)):
				t.Errorf("next = %s, want %s", p.next, now.Add(tc.wantNext))
			}
		})
	}
}

func ids(items []*store.OutboxItem) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.ID)
	}
	slices.Sort(out)
	return out
}
