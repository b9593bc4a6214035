package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/testenv"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
)

type memoryRecorder struct{ events []recordings.QueryEvent }

func (m *memoryRecorder) Record(ev recordings.QueryEvent) error {
	m.events = append(m.events, ev)
	return nil
}

// feed passes an encoded message to the capture's client or server side.
func feed(t *testing.T, side func(byte, []byte, bool), msg interface{ Encode([]byte) ([]byte, error) }) {
	t.Helper()
	b, err := msg.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	side(b[0], b[5:], true)
}

func TestCaptureOrdersResults(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	rec := &memoryRecorder{}
	c := newCapture(rec, recordings.ParamsOn, nil, clk, func(err error) { t.Fatal(err) })

	// A pipeline of two extended statements and a Sync, where the first
	// fails, so the server skips the second.
	feed(t, c.client, &pgproto3.Parse{Name: "s1", Query: "select $1::int / 0"})
	feed(t, c.client, &pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}})
	feed(t, c.client, &pgproto3.Execute{})
	feed(t, c.client, &pgproto3.Parse{Query: "select 2"})
	feed(t, c.client, &pgproto3.Bind{})
	feed(t, c.client, &pgproto3.Execute{})
	feed(t, c.client, &pgproto3.Sync{})
	// A Query with two statements, and a row-limited Execute.
	feed(t, c.client, &pgproto3.Query{String: "select 1; select 2"})
	feed(t, c.client, &pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1"})
	feed(t, c.client, &pgproto3.Execute{Portal: "p", MaxRows: 1})
	feed(t, c.client, &pgproto3.Sync{})

	clk.Advance(time.Millisecond)
	feed(t, c.server, &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "22012", Message: "division by zero"})
	feed(t, c.server, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	feed(t, c.server, &pgproto3.DataRow{Values: [][]byte{[]byte("1")}})
	feed(t, c.server, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	feed(t, c.server, &pgproto3.DataRow{Values: [][]byte{[]byte("2")}})
	feed(t, c.server, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	feed(t, c.server, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	feed(t, c.server, &pgproto3.DataRow{Values: [][]byte{[]byte("9")}})
	feed(t, c.server, &pgproto3.PortalSuspended{})
	feed(t, c.server, &pgproto3.ReadyForQuery{TxStatus: 'I'})

	want := []struct {
		text, tag, code string
		rows            int64
		params          int
	}{
		{text: "select $1::int / 0", code: "22012", params: 1},
		{text: "select 1; select 2", tag: "SELECT 1", rows: 1},
		{text: "select 1; select 2", tag: "SELECT 1", rows: 1},
		{text: "select $1::int / 0", rows: 1},
	}
	if len(rec.events) != len(want) {
		t.Fatalf("events = %+v, want %d", rec.events, len(want))
	}
	for i, w := range want {
		ev := rec.events[i]
		if ev.Text != w.text || ev.Tag != w.tag || ev.ErrorCode != w.code || ev.Rows != w.rows || len(ev.Params) != w.params {
			t.Errorf("event %d = %+v, want %+v", i, ev, w)
		}
	}
	if rec.events[0].Duration != time.Millisecond {
		t.Errorf("duration = %s, want 1ms on the fake clock", rec.events[0].Duration)
	}
	if len(c.queue) != 0 {
		t.Errorf("queue after the last ReadyForQuery = %d entries, want 0", len(c.queue))
	}
}

func TestCaptureRecordsUnfinishedStatements(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	rec := &memoryRecorder{}
	c := newCapture(rec, recordings.ParamsOff, nil, clk, func(err error) { t.Fatal(err) })

	// A pipeline whose first statement has completed and whose second has
	// sent a row, then a Sync, then a Query with no result yet.
	feed(t, c.client, &pgproto3.Parse{Query: "select 1"})
	feed(t, c.client, &pgproto3.Bind{})
	feed(t, c.client, &pgproto3.Execute{})
	feed(t, c.client, &pgproto3.Parse{Query: "select generate_series(1, 9)"})
	feed(t, c.client, &pgproto3.Bind{})
	feed(t, c.client, &pgproto3.Execute{})
	feed(t, c.client, &pgproto3.Sync{})
	feed(t, c.client, &pgproto3.Query{String: "select pg_sleep(60)"})
	feed(t, c.server, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	feed(t, c.server, &pgproto3.DataRow{Values: [][]byte{[]byte("1")}})

	clk.Advance(2 * time.Second)
	c.abandon(session.ReasonRevoked)
	want := []struct {
		text string
		rows int64
	}{
		{text: "select 1"},
		{text: "select generate_series(1, 9)", rows: 1},
		{text: "select pg_sleep(60)"},
	}
	if len(rec.events) != len(want) {
		t.Fatalf("events = %+v, want %d", rec.events, len(want))
	}
	if done := rec.events[0]; done.Text != want[0].text || done.Tag != "SELECT 1" {
		t.Errorf("completed event = %q with tag %q, want %q with SELECT 1", done.Text, done.Tag, want[0].text)
	}
	for i, w := range want[1:] {
		ev := rec.events[i+1]
		if ev.Text != w.text || ev.Rows != w.rows {
			t.Errorf("abandoned event %d = %q with %d rows, want %q with %d", i, ev.Text, ev.Rows, w.text, w.rows)
		}
		if ev.Tag != "" {
			t.Errorf("abandoned event %d has tag %q, want none", i, ev.Tag)
		}
		if ev.ErrorCode != "" {
			t.Errorf("abandoned event %d has error code %q, want none", i, ev.ErrorCode)
		}
		if !strings.Contains(ev.ErrorMessage, "revoked") {
			t.Errorf("abandoned event %d message = %q, want the reason named", i, ev.ErrorMessage)
		}
		if ev.Duration != 2*time.Second {
			t.Errorf("abandoned event %d duration = %s, want 2s on the fake clock", i, ev.Duration)
		}
	}
	if c.queue != nil {
		t.Errorf("queue after abandon = %d entries, want none", len(c.queue))
	}

	c.abandon(session.ReasonRevoked)
	if len(rec.events) != len(want) {
		t.Errorf("a second abandon recorded %d more events, want none", len(rec.events)-len(want))
	}
}

// discardRecorder counts events and keeps nothing.
type discardRecorder struct{ n int }

func (d *discardRecorder) Record(recordings.QueryEvent) error {
	d.n++
	return nil
}

// encoded returns the type byte and body of an encoded message.
func encoded(t *testing.T, msg interface{ Encode([]byte) ([]byte, error) }) (byte, []byte) {
	t.Helper()
	b, err := msg.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b[0], b[5:]
}

// TestCaptureQueryAllocatesOnlyText checks what a repeated
// simple query costs the capture: the copy of its text and nothing more.
// The queue's array is reused, and a repeated command tag reuses its
// string.
func TestCaptureQueryAllocatesOnlyText(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	rec := &discardRecorder{}
	c := newCapture(rec, recordings.ParamsOff, nil, clock.NewFake(time.Now()), func(err error) { t.Fatal(err) })
	qt, query := encoded(t, &pgproto3.Query{String: "SELECT abalance FROM pgbench_accounts WHERE aid = 7;"})
	rt, row := encoded(t, &pgproto3.DataRow{Values: [][]byte{[]byte("0")}})
	ct, complete := encoded(t, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	zt, ready := encoded(t, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	allocs := testing.AllocsPerRun(100, func() {
		c.client(qt, query, true)
		c.server(rt, row, true)
		c.server(ct, complete, true)
		c.server(zt, ready, true)
	})
	if allocs > 1 {
		t.Errorf("a repeated simple query allocates %.1f times in the capture, want at most 1, for its text", allocs)
	}
	if rec.n < 100 {
		t.Errorf("recorded %d events, want one per query", rec.n)
	}
}

// TestCaptureStreamingPipeline keeps a pipeline of extended-protocol
// statements streaming with eight of them always waiting for results, so
// the queue never empties. Every result must go to its own statement,
// in order, and the queue's array must stay small.
func TestCaptureStreamingPipeline(t *testing.T) {
	rec := &memoryRecorder{}
	c := newCapture(rec, recordings.ParamsOff, nil, clock.NewFake(time.Now()), func(err error) { t.Fatal(err) })
	const total, lag = 5000, 8

	send := func(i int) {
		feed(t, c.client, &pgproto3.Parse{Query: fmt.Sprintf("select %d", i)})
		feed(t, c.client, &pgproto3.Bind{})
		feed(t, c.client, &pgproto3.Execute{})
		if i%100 == 99 {
			feed(t, c.client, &pgproto3.Sync{})
		}
	}
	answer := func(i int) {
		feed(t, c.server, &pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("SELECT %d", i))})
		if i%100 == 99 {
			feed(t, c.server, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		}
	}

	maxCap := 0
	for i := range total {
		send(i)
		if i >= lag {
			answer(i - lag)
		}
		maxCap = max(maxCap, cap(c.queue))
	}
	for i := total - lag; i < total; i++ {
		answer(i)
	}

	if len(rec.events) != total {
		t.Fatalf("recorded %d events, want %d", len(rec.events), total)
	}
	for i, ev := range rec.events {
		if want := fmt.Sprintf("select %d", i); ev.Text != want || ev.Rows != int64(i) {
			t.Fatalf("event %d = %q with %d rows, want %q with %d", i, ev.Text, ev.Rows, want, i)
		}
	}
	if maxCap > 64 {
		t.Errorf("the queue's array grew to %d slots with at most %d statements waiting, want it reused", maxCap, lag+2)
	}
	if n := len(c.queue) - c.qhead; n != 0 {
		t.Errorf("queue after the last ReadyForQuery holds %d entries, want none", n)
	}
	if cap(c.queue) > maxKeptQueue {
		t.Errorf("the empty queue keeps %d slots, want at most %d, so an idle session keeps little", cap(c.queue), maxKeptQueue)
	}
}
