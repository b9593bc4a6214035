package audit

import (
	"context"
	"errors"
	"testing"

	"github.com/jitgate/jitgate/store"
)

func TestVerifyIntact(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 30)

	report, err := Verify(ctx, db)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if report.Events != 30 || report.Broken != nil {
		t.Errorf("report = %+v, want 30 events and no break", report)
	}
	last, err := db.LastEvent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if report.Head != last.Hash {
		t.Errorf("Head = %s, want the last hash %s", report.Head, last.Hash)
	}
}

func TestVerifyEmpty(t *testing.T) {
	_, db, _, _ := openLog(t)
	report, err := Verify(context.Background(), db)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if report.Events != 0 || report.Head != GenesisHash {
		t.Errorf("report = %+v, want no events and the genesis head", report)
	}
}

// TestVerifyTampered changes the SQLite file behind the store's back and
// expects Verify to name the first event that no longer fits.
func TestVerifyTampered(t *testing.T) {
	cases := []struct {
		name       string
		statements []string
		wantSeq    int64
		wantReason string
		wantIntact int64 // events before the break
	}{
		{
			name:       "one byte of details",
			statements: []string{`UPDATE events SET details = replace(details, '"n":12', '"n":13') WHERE seq = 12`},
			wantSeq:    12,
			wantReason: reasonContent,
			wantIntact: 11,
		},
		{
			name:       "actor",
			statements: []string{`UPDATE events SET actor = 'mallory' WHERE seq = 3`},
			wantSeq:    3,
			wantReason: reasonContent,
			wantIntact: 2,
		},
		{
			name:       "time",
			statements: []string{`UPDATE events SET time = time - 1000 WHERE seq = 9`},
			wantSeq:    9,
			wantReason: reasonContent,
			wantIntact: 8,
		},
		{
			name:       "middle row deleted",
			statements: []string{`DELETE FROM events WHERE seq = 10`},
			wantSeq:    11,
			wantReason: "event 10 is missing",
			wantIntact: 9,
		},
		{
			name:       "several rows deleted",
			statements: []string{`DELETE FROM events WHERE seq BETWEEN 5 AND 7`},
			wantSeq:    8,
			wantReason: "events 5 to 7 are missing",
			wantIntact: 4,
		},
		{
			name:       "first row deleted",
			statements: []string{`DELETE FROM events WHERE seq = 1`},
			wantSeq:    2,
			wantReason: "event 1 is missing",
			wantIntact: 0,
		},
		{
			name: "two rows swapped",
			statements: []string{
				`UPDATE events SET seq = -1 WHERE seq = 6`,
				`UPDATE events SET seq = 6 WHERE seq = 7`,
				`UPDATE events SET seq = 7 WHERE seq = -1`,
			},
			wantSeq:    6,
			wantReason: reasonContent,
			wantIntact: 5,
		},
		{
			name: "hash and next prev_hash changed together",
			statements: []string{
				`UPDATE events SET prev_hash = '` + forgedHash + `' WHERE seq = 15`,
				`UPDATE events SET hash = '` + forgedHash + `' WHERE seq = 14`,
			},
			wantSeq:    14,
			wantReason: reasonContent,
			wantIntact: 13,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			l, db, clk, path := openLog(t)
			recordN(t, l, clk, 20)
			tamper(t, path, tc.statements...)

			report, err := Verify(ctx, db)
			if !errors.Is(err, ErrBroken) {
				t.Fatalf("Verify error = %v, want ErrBroken", err)
			}
			if report == nil || report.Broken == nil {
				t.Fatalf("report = %+v, want a break", report)
			}
			if report.Broken.Seq != tc.wantSeq {
				t.Errorf("break at seq %d, want %d", report.Broken.Seq, tc.wantSeq)
			}
			if report.Broken.Reason != tc.wantReason {
				t.Errorf("break reason %q, want %q", report.Broken.Reason, tc.wantReason)
			}
			if report.Events != tc.wantIntact {
				t.Errorf("%d events reported intact, want %d", report.Events, tc.wantIntact)
			}
		})
	}
}

// forgedHash is any well-formed hash that no event has.
const forgedHash = "1111111111111111111111111111111111111111111111111111111111111111"

// TestVerifyForgedLink appends, through the store, an event with a correct
// hash of its own content but a prev_hash that points nowhere, as a forger
// inserting an event without knowing the chain would.
func TestVerifyForgedLink(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 4)

	forged := &store.Event{Seq: 5, Time: start, Type: GrantCreated, Actor: "mallory", Details: []byte(`{}`), PrevHash: forgedHash}
	hash, err := EventHash(forged)
	if err != nil {
		t.Fatal(err)
	}
	forged.Hash = hash
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.AppendEvent(ctx, forged) }); err != nil {
		t.Fatal(err)
	}

	report, err := Verify(ctx, db)
	if !errors.Is(err, ErrBroken) {
		t.Fatalf("Verify error = %v, want ErrBroken", err)
	}
	if b := report.Broken; b.Seq != 5 || b.Reason != "previous hash does not match the hash of event 4" {
		t.Errorf("break = %+v, want seq 5 with a previous-hash mismatch", b)
	}
}

func TestVerifyMessage(t *testing.T) {
	ctx := context.Background()
	l, db, clk, path := openLog(t)
	recordN(t, l, clk, 20) // event 17 is a grant.revoked
	tamper(t, path, `UPDATE events SET actor = 'mallory' WHERE seq = 17`)

	_, err := Verify(ctx, db)
	const want = "audit chain broken at event 17 (grant.revoked): stored hash does not match its content"
	if err == nil || err.Error() != want {
		t.Errorf("Verify error = %v, want %q", err, want)
	}
}

func TestVerifyBadDetails(t *testing.T) {
	ctx := context.Background()
	l, db, clk, path := openLog(t)
	recordN(t, l, clk, 3)
	tamper(t, path, `UPDATE events SET details = 'not json' WHERE seq = 2`)

	report, err := Verify(ctx, db)
	if !errors.Is(err, ErrBroken) {
		t.Fatalf("Verify error = %v, want ErrBroken", err)
	}
	if report.Broken.Seq != 2 {
		t.Errorf("break at seq %d, want 2", report.Broken.Seq)
	}
}
