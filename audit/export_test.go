package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

// storedEvents returns every event in the store, oldest first.
func storedEvents(t *testing.T, r store.Reader, f store.EventFilter) []*store.Event {
	t.Helper()
	var out []*store.Event
	if err := r.Events(context.Background(), f, func(e *store.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatalf("Events: %v", err)
	}
	return out
}

func TestExportJSONL(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 6)
	want := storedEvents(t, db, store.EventFilter{})

	var out bytes.Buffer
	if err := Export(ctx, db, store.EventFilter{}, FormatJSONL, &out); err != nil {
		t.Fatalf("Export: %v", err)
	}

	scanner := bufio.NewScanner(&out)
	var got []*store.Event
	for scanner.Scan() {
		var record exportedEvent
		dec := json.NewDecoder(bytes.NewReader(scanner.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&record); err != nil {
			t.Fatalf("line %d: %v: %s", len(got)+1, err, scanner.Bytes())
		}
		got = append(got, eventFromRecord(t, record))
	}
	checkExported(t, got, want)
	if bytes.Contains(out.Bytes(), []byte(`\u003c`)) {
		t.Error("the export escapes < as \\u003c, want details text as stored")
	}
}

func TestExportCSV(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 6)
	want := storedEvents(t, db, store.EventFilter{})

	var out bytes.Buffer
	if err := Export(ctx, db, store.EventFilter{}, FormatCSV, &out); err != nil {
		t.Fatalf("Export: %v", err)
	}

	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v", err)
	}
	if len(rows) == 0 {
		t.Fatal("no header row")
	}
	header := rows[0]
	for i, name := range []string{"seq", "time", "type", "actor", "request_id", "grant_id", "session_id", "details", "prev_hash", "hash"} {
		if header[i] != name {
			t.Errorf("column %d is %q, want %q", i, header[i], name)
		}
	}
	var got []*store.Event
	for _, row := range rows[1:] {
		record := exportedEvent{
			Seq:       parseInt(t, row[0]),
			Time:      row[1],
			Type:      row[2],
			Actor:     row[3],
			RequestID: parseInt(t, row[4]),
			GrantID:   parseInt(t, row[5]),
			SessionID: parseInt(t, row[6]),
			Details:   json.RawMessage(row[7]),
			PrevHash:  row[8],
			Hash:      row[9],
		}
		got = append(got, eventFromRecord(t, record))
	}
	checkExported(t, got, want)
}

func TestExportFilter(t *testing.T) {
	ctx := context.Background()
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 6)

	var out bytes.Buffer
	if err := Export(ctx, db, store.EventFilter{AfterSeq: 4}, FormatJSONL, &out); err != nil {
		t.Fatalf("Export: %v", err)
	}
	if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != 2 {
		t.Errorf("exported %d lines after seq 4 of 6, want 2", lines)
	}
}

func TestExportUnknownFormat(t *testing.T) {
	_, db, _, _ := openLog(t)
	err := Export(context.Background(), db, store.EventFilter{}, "xml", io.Discard)
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Export as xml: error = %v, want ErrUnknownFormat", err)
	}
}

// failingWriter fails every write, to show that Export reports it.
type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestExportWriteError(t *testing.T) {
	l, db, clk, _ := openLog(t)
	recordN(t, l, clk, 2)
	for _, format := range []string{FormatJSONL, FormatCSV} {
		err := Export(context.Background(), db, store.EventFilter{}, format, failingWriter{})
		if !errors.Is(err, errWrite) {
			t.Errorf("Export %s to a failing writer: error = %v, want errWrite", format, err)
		}
	}
}

func eventFromRecord(t *testing.T, record exportedEvent) *store.Event {
	t.Helper()
	at, err := time.Parse(TimeLayout, record.Time)
	if err != nil {
		t.Fatalf("event %d time %q: %v", record.Seq, record.Time, err)
	}
	return &store.Event{
		Seq:       record.Seq,
		Time:      at,
		Type:      record.Type,
		Actor:     record.Actor,
		RequestID: record.RequestID,
		GrantID:   record.GrantID,
		SessionID: record.SessionID,
		Details:   record.Details,
		PrevHash:  record.PrevHash,
		Hash:      record.Hash,
	}
}

// checkExported compares exported events with stored ones field by field,
// and recomputes each hash from the export alone.
func checkExported(t *testing.T, got, want []*store.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("exported %d events, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.Seq != w.Seq || !g.Time.Equal(w.Time) || g.Type != w.Type || g.Actor != w.Actor ||
			g.RequestID != w.RequestID || g.GrantID != w.GrantID || g.SessionID != w.SessionID ||
			!bytes.Equal(g.Details, w.Details) || g.PrevHash != w.PrevHash || g.Hash != w.Hash {
			t.Errorf("exported event %d = %+v, want %+v", i+1, g, w)
		}
		if hash, err := EventHash(g); err != nil || hash != g.Hash {
			t.Errorf("hash recomputed from exported event %d = %s (%v), want %s", g.Seq, hash, err, g.Hash)
		}
	}
}

func parseInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return n
}
