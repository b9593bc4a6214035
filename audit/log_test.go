package audit

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func TestAppendLinksEvents(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)

	var first, second *store.Event
	err := db.Update(ctx, func(tx store.Tx) error {
		var err error
		if first, err = l.Append(ctx, tx, Entry{Type: ConfigLoaded, Details: map[string]any{"path": "/etc/jitgate.yaml"}}); err != nil {
			return err
		}
		clk.Advance(time.Millisecond)
		second, err = l.Append(ctx, tx, Entry{Type: RequestCreated, Actor: "alice", RequestID: 4, GrantID: 5, SessionID: 6})
		return err
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	if first.Seq != 1 || second.Seq != 2 {
		t.Errorf("seqs %d, %d; want 1, 2", first.Seq, second.Seq)
	}
	if first.PrevHash != GenesisHash {
		t.Errorf("first PrevHash = %s, want the genesis hash", first.PrevHash)
	}
	if second.PrevHash != first.Hash {
		t.Errorf("second PrevHash = %s, want the first event's hash %s", second.PrevHash, first.Hash)
	}
	if want := start.Truncate(time.Microsecond); !first.Time.Equal(want) || first.Time.Location() != time.UTC {
		t.Errorf("first Time = %v, want %v in UTC", first.Time, want)
	}
	if string(first.Details) != `{"path":"/etc/jitgate.yaml"}` {
		t.Errorf("first Details = %s", first.Details)
	}
	if string(second.Details) != `{}` {
		t.Errorf("Details for a nil value = %s, want {}", second.Details)
	}

	stored, err := db.LastEvent(ctx)
	if err != nil {
		t.Fatalf("LastEvent: %v", err)
	}
	if stored.Hash != second.Hash || !stored.Time.Equal(second.Time) || string(stored.Details) != string(second.Details) {
		t.Errorf("stored event %+v differs from the returned %+v", stored, second)
	}
	if hash, err := EventHash(stored); err != nil || hash != stored.Hash {
		t.Errorf("hash of the stored event = %s (%v), want %s", hash, err, stored.Hash)
	}
}

func TestAppendDetails(t *testing.T) {
	type details struct {
		Reason string `json:"reason"`
		Window int    `json:"window_s"`
	}
	var nilMap map[string]any
	cases := []struct {
		name    string
		details any
		want    string
	}{
		{"nil", nil, `{}`},
		{"nil map", nilMap, `{}`},
		{"struct in key order", details{Reason: "done", Window: 60}, `{"reason":"done","window_s":60}`},
		{"map", map[string]any{"z": 1, "a": []string{"x"}}, `{"a":["x"],"z":1}`},
		{"nil byte slice", []byte(nil), `{}`},
		{"raw message", json.RawMessage(`{"b": 1, "a": 2}`), `{"a":2,"b":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := marshalDetails(tc.details)
			if err != nil {
				t.Fatalf("marshalDetails: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("details = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAppendRejectsEntry(t *testing.T) {
	cases := []struct {
		name  string
		entry Entry
	}{
		{"empty type", Entry{}},
		{"string details", Entry{Type: GrantEnded, Details: "text"}},
		{"array details", Entry{Type: GrantEnded, Details: []int{1}}},
		{"unmarshalable details", Entry{Type: GrantEnded, Details: map[string]any{"f": func() {}}}},
		{"invalid UTF-8 actor", Entry{Type: GrantEnded, Actor: "\xff"}},
	}
	ctx := context.Background()
	l, db, _, _ := openLog(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Update(ctx, func(tx store.Tx) error {
				_, err := l.Append(ctx, tx, tc.entry)
				return err
			})
			if !errors.Is(err, ErrInvalidEntry) {
				t.Errorf("Append error = %v, want ErrInvalidEntry", err)
			}
		})
	}
	if _, err := db.LastEvent(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an event was stored after rejected entries: %v", err)
	}
}

func TestAppendRollsBackWithTransaction(t *testing.T) {
	ctx := context.Background()
	l, db, _, _ := openLog(t)
	errAbort := errors.New("abort")
	err := db.Update(ctx, func(tx store.Tx) error {
		if _, err := l.Append(ctx, tx, Entry{Type: RequestCreated}); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Update error = %v, want errAbort", err)
	}
	if _, err := db.LastEvent(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the event of a rolled-back transaction was stored: %v", err)
	}
}

func TestRecordConcurrent(t *testing.T) {
	ctx := context.Background()
	l, db, _, _ := openLog(t)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := l.Record(ctx, Entry{Type: SessionStarted, Actor: "writer", SessionID: int64(w*each + i)})
				if err != nil {
					t.Errorf("writer %d event %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()

	report, err := Verify(ctx, db)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if report.Events != writers*each {
		t.Errorf("Verify checked %d events, want %d", report.Events, writers*each)
	}
}
