package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
)

// ErrInvalidEntry is returned by Append for an entry that cannot be logged.
var ErrInvalidEntry = errors.New("audit: invalid entry")

// recordAttempts bounds how often Record retries after store.ErrConflict,
// which a shared store returns when another replica appended the same seq
// first.
const recordAttempts = 3

// Log appends events to the hash chain in a store.
type Log struct {
	store store.Store
	clock clock.Clock
}

// New returns a Log over s that stamps events with clk, or with the wall
// clock when clk is nil.
func New(s store.Store, clk clock.Clock) *Log {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Log{store: s, clock: clk}
}

// Entry is the caller's part of an event. Append adds the seq, the time
// and the hashes.
type Entry struct {
	Type  string // one of the constants in events.go
	Actor string // the person or component that acted, empty for jitgate itself
	// RequestID, GrantID and SessionID link the event to records, and 0 means
	// none.
	RequestID int64
	GrantID   int64
	SessionID int64
	// Details is marshalled with encoding/json and must produce a JSON
	// object. A nil value or nil map logs an empty object.
	Details any
}

// Append adds e to the chain inside tx and returns the stored event. It
// reads the last event through tx, so the new link and the change it
// describes commit or roll back together. Append does not retry: on
// store.ErrConflict the caller's whole transaction must run again.
func (l *Log) Append(ctx context.Context, tx store.Tx, e Entry) (*store.Event, error) {
	if err := validateEntry(e); err != nil {
		return nil, err
	}
	details, err := marshalDetails(e.Details)
	if err != nil {
		return nil, fmt.Errorf("%w: %s details: %w", ErrInvalidEntry, e.Type, err)
	}
	seq, prev := int64(1), GenesisHash
	last, err := tx.LastEvent(ctx)
	switch {
	case err == nil:
		seq, prev = last.Seq+1, last.Hash
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("audit: append %s: %w", e.Type, err)
	}

	ev := &store.Event{
		Seq: seq,
		// Microseconds are the finest precision that every store keeps, and
		// the hash covers the time as stored.
		Time:      l.clock.Now().UTC().Truncate(time.Microsecond),
		Type:      e.Type,
		Actor:     e.Actor,
		RequestID: e.RequestID,
		GrantID:   e.GrantID,
		SessionID: e.SessionID,
		Details:   details,
		PrevHash:  prev,
	}
	if ev.Hash, err = EventHash(ev); err != nil {
		return nil, fmt.Errorf("audit: append %s: %w", e.Type, err)
	}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return nil, fmt.Errorf("audit: append %s: %w", e.Type, err)
	}
	return ev, nil
}

// validateEntry rejects an entry without a type, and text that is not
// valid UTF-8, which the hash input could not represent exactly.
func validateEntry(e Entry) error {
	if e.Type == "" {
		return fmt.Errorf("%w: missing type", ErrInvalidEntry)
	}
	if !utf8.ValidString(e.Type) || !utf8.ValidString(e.Actor) {
		return fmt.Errorf("%w: %q: type or actor is not valid UTF-8", ErrInvalidEntry, e.Type)
	}
	return nil
}

// marshalDetails returns details as a canonical JSON object, so the stored
// text is exactly what the hash covers.
func marshalDetails(details any) ([]byte, error) {
	raw, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return []byte("{}"), nil
	}
	return canonicalObject(raw)
}

// Record appends e in a transaction of its own, for events that change no
// other record. It retries a few times when a shared store reports that
// another writer took the same seq.
func (l *Log) Record(ctx context.Context, e Entry) error {
	var err error
	for range recordAttempts {
		err = l.store.Update(ctx, func(tx store.Tx) error {
			_, err := l.Append(ctx, tx, e)
			return err
		})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("audit: record %s: gave up after %d conflicts: %w", e.Type, recordAttempts, err)
}
