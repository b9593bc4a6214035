package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jitgate/jitgate/store"
)

// Export formats.
const (
	// FormatJSONL writes one JSON object per line, details inline as an
	// object.
	FormatJSONL = "jsonl"
	// FormatCSV writes a header row, then one row per event with the
	// details as a JSON text column.
	FormatCSV = "csv"
)

// ErrUnknownFormat is returned by Export for a format it does not write.
var ErrUnknownFormat = errors.New("audit: unknown export format")

// exportColumns names the fields of an exported event, in CSV column
// order. The JSON keys are the same.
var exportColumns = []string{"seq", "time", "type", "actor", "request_id", "grant_id", "session_id", "details", "prev_hash", "hash"}

// exportedEvent is one JSON Lines record. Time uses TimeLayout, so an
// auditor can recompute every hash from the export alone.
type exportedEvent struct {
	Seq       int64           `json:"seq"`
	Time      string          `json:"time"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	RequestID int64           `json:"request_id"`
	GrantID   int64           `json:"grant_id"`
	SessionID int64           `json:"session_id"`
	Details   json.RawMessage `json:"details"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// Export writes the events that f selects to w in format (FormatJSONL or
// FormatCSV), oldest first. Events go to w through a small buffer as they
// are read, so memory use does not grow with the log. Export does not check
// the chain, which is what Verify is for.
func Export(ctx context.Context, r store.Reader, f store.EventFilter, format string, w io.Writer) error {
	buffered := bufio.NewWriter(w)
	var err error
	switch format {
	case FormatJSONL:
		err = exportJSONL(ctx, r, f, buffered)
	case FormatCSV:
		err = exportCSV(ctx, r, f, buffered)
	default:
		return fmt.Errorf("%w %q: use %s or %s", ErrUnknownFormat, format, FormatJSONL, FormatCSV)
	}
	if err == nil {
		err = buffered.Flush()
	}
	if err != nil {
		return fmt.Errorf("audit: export %s: %w", format, err)
	}
	return nil
}

func exportJSONL(ctx context.Context, r store.Reader, f store.EventFilter, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep details text as stored, <, > and & included
	return r.Events(ctx, f, func(e *store.Event) error {
		record := exportedEvent{
			Seq:       e.Seq,
			Time:      e.Time.UTC().Format(TimeLayout),
			Type:      e.Type,
			Actor:     e.Actor,
			RequestID: e.RequestID,
			GrantID:   e.GrantID,
			SessionID: e.SessionID,
			Details:   e.Details,
			PrevHash:  e.PrevHash,
			Hash:      e.Hash,
		}
		if err := enc.Encode(record); err != nil {
			return fmt.Errorf("event %d: %w", e.Seq, err)
		}
		return nil
	})
}

// NOTE: CSV cells are written as stored. A spreadsheet may run an actor or
// details cell that starts with "=" as a formula, so open exports of
// untrusted names as text.
func exportCSV(ctx context.Context, r store.Reader, f store.EventFilter, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	err := r.Events(ctx, f, func(e *store.Event) error {
		return cw.Write([]string{
			strconv.FormatInt(e.Seq, 10),
			e.Time.UTC().Format(TimeLayout),
			e.Type,
			e.Actor,
			strconv.FormatInt(e.RequestID, 10),
			strconv.FormatInt(e.GrantID, 10),
			strconv.FormatInt(e.SessionID, 10),
			string(e.Details),
			e.PrevHash,
			e.Hash,
		})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
