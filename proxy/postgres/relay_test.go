package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// relayPair returns a connection through jitgate and a direct one to the
// same database, for differential checks.
func relayPair(t *testing.T, o envOptions) (*env, *pgx.Conn, *pgx.Conn) {
	t.Helper()
	e := newEnv(t, o)
	e.grantAccess("readwrite")
	proxy := e.pgxConnect("alice")
	t.Cleanup(func() { proxy.Close(context.Background()) })
	direct := e.adminConn(e.db)
	t.Cleanup(func() { direct.Close(context.Background()) })
	return e, proxy, direct
}

func TestRelayExtendedProtocolTypes(t *testing.T) {
	_, proxy, direct := relayPair(t, envOptions{})
	blob := make([]byte, 5<<20)
	rand.Read(blob)
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	num := pgtype.Numeric{Int: big.NewInt(123456789), Exp: -4, Valid: true}
	const sql = "select $1::bytea, $2::int8[], $3::timestamptz, $4::numeric, $5::text"

	type row struct {
		blob []byte
		arr  []int64
		ts   time.Time
		num  pgtype.Numeric
		null *string
	}
	query := func(conn *pgx.Conn) row {
		var r row
		// Five runs turn the statement into a named prepared statement in
		// pgx's cache, as pgjdbc's prepareThreshold does.
		for range 5 {
			err := conn.QueryRow(context.Background(), sql, blob, []int64{1, 2, 3}, ts, num, nil).
				Scan(&r.blob, &r.arr, &r.ts, &r.num, &r.null)
			if err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	got, want := query(proxy), query(direct)
	if !bytes.Equal(got.blob, want.blob) || !bytes.Equal(got.blob, blob) {
		t.Error("bytea result differs from the direct connection")
	}
	if fmt.Sprint(got.arr) != fmt.Sprint(want.arr) || !got.ts.Equal(want.ts) || got.null != nil {
		t.Errorf("results differ: proxy %v %v %v, direct %v %v %v", got.arr, got.ts, got.null, want.arr, want.ts, want.null)
	}
	if gv, _ := got.num.Value(); fmt.Sprint(gv) != "12345.6789" {
		t.Errorf("numeric = %v, want 12345.6789", gv)
	}

	// A Describe of a statement on its own, as getMetaData() does.
	sd, err := proxy.Prepare(context.Background(), "described", "select $1::int + 1 as n, 'x'::text as s")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Fields) != 2 || sd.Fields[0].Name != "n" || len(sd.ParamOIDs) != 1 {
		t.Errorf("statement description = %+v", sd)
	}
}

func TestRelayPortalSuspended(t *testing.T) {
	_, proxy, _ := relayPair(t, envOptions{})
	pc := proxy.PgConn()
	fe := pc.Frontend()
	fe.Send(&pgproto3.Parse{Query: "select g, repeat('x', 1000) from generate_series(1, 250) g"})
	fe.Send(&pgproto3.Bind{})
	for range 3 {
		fe.Send(&pgproto3.Execute{MaxRows: 100})
	}
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}

	var rows, suspended int
	var tag string
	for {
		msg, err := pc.ReceiveMessage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			rows++
		case *pgproto3.PortalSuspended:
			suspended++
		case *pgproto3.CommandComplete:
			tag = string(m.CommandTag)
		case *pgproto3.ErrorResponse:
			t.Fatalf("server error: %s", m.Message)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if rows != 250 || suspended != 2 || tag != "SELECT 50" {
		t.Errorf("rows %d, PortalSuspended %d, tag %q; want 250, 2, SELECT 50", rows, suspended, tag)
	}
}

func TestRelayPipeline(t *testing.T) {
	_, proxy, direct := relayPair(t, envOptions{})
	ctx := context.Background()
	run := func(conn *pgx.Conn, table string) int64 {
		if _, err := conn.Exec(ctx, "create table "+table+" (v text)"); err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		payload := strings.Repeat("x", 1024)
		for i := range 10000 {
			if i%2 == 0 {
				b.Queue("insert into "+table+"(v) values ($1)", payload)
			} else {
				b.Queue("select $1::int", i)
			}
		}
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := conn.QueryRow(ctx, "select count(*) from "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got, want := run(proxy, "pipe_proxy"), run(direct, "pipe_direct"); got != want || got != 5000 {
		t.Errorf("rows after the pipeline: proxy %d, direct %d, want 5000", got, want)
	}

	// A failing statement aborts only up to its Sync: pgx sends one Sync
	// per batch, so the next batch runs.
	b := &pgx.Batch{}
	b.Queue("select 1/0")
	b.Queue("select 2")
	if err := proxy.SendBatch(ctx, b).Close(); pgErrorCode(err) != "22012" {
		t.Errorf("batch with a division by zero: %v, want SQLSTATE 22012", err)
	}
	var two int
	if err := proxy.QueryRow(ctx, "select 2").Scan(&two); err != nil || two != 2 {
		t.Errorf("query after the failed batch: %d, %v", two, err)
	}
}

// copyRows yields about size bytes of rows for CopyFrom.
type copyRows struct {
	n, count int
	pad      string
}

func (r *copyRows) Next() bool { r.n++; return r.n <= r.count }
func (r *copyRows) Values() ([]any, error) {
	return []any{int32(r.n), fmt.Sprintf("row-%d-%s", r.n, r.pad)}, nil
}
func (r *copyRows) Err() error { return nil }
func newCopyRows(size int) *copyRows {
	return &copyRows{count: size / 100, pad: strings.Repeat("p", 88)}
}
func hashOf(w *bytes.Buffer) [sha256.Size]byte { return sha256.Sum256(w.Bytes()) }

func TestRelayCopy100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MB each way")
	}
	_, proxy, direct := relayPair(t, envOptions{})
	ctx := context.Background()
	const size = 100 << 20

	n, err := proxy.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "v"}, newCopyRows(size))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(size/100) {
		t.Errorf("CopyFrom through jitgate copied %d rows, want %d", n, size/100)
	}

	copyOut := func(conn *pgx.Conn) (*bytes.Buffer, string) {
		var buf bytes.Buffer
		tag, err := conn.PgConn().CopyTo(ctx, &buf, "copy (select * from t order by id) to stdout")
		if err != nil {
			t.Fatal(err)
		}
		return &buf, tag.String()
	}
	viaProxy, proxyTag := copyOut(proxy)
	viaDirect, directTag := copyOut(direct)
	if proxyTag != directTag || hashOf(viaProxy) != hashOf(viaDirect) {
		t.Errorf("COPY TO through jitgate (%s, %d bytes) differs from direct (%s, %d bytes)",
			proxyTag, viaProxy.Len(), directTag, viaDirect.Len())
	}
	if viaProxy.Len() < size {
		t.Errorf("COPY TO moved %d bytes, want at least %d", viaProxy.Len(), size)
	}
}

func TestRelayCopyEdgeCases(t *testing.T) {
	_, proxy, _ := relayPair(t, envOptions{})
	ctx := context.Background()
	pc := proxy.PgConn()

	tag, err := pc.CopyFrom(ctx, strings.NewReader(""), "copy t from stdin")
	if err != nil || tag.String() != "COPY 0" {
		t.Errorf("empty COPY FROM: %q, %v", tag, err)
	}
	_, err = pc.CopyFrom(ctx, strings.NewReader("1,ok\nx,bad\n"), "copy t from stdin csv")
	if pgErrorCode(err) != "22P02" {
		t.Errorf("COPY FROM with a bad row: %v, want SQLSTATE 22P02", err)
	}
	_, err = pc.CopyFrom(ctx, failingReader{}, "copy t from stdin csv")
	if err == nil {
		t.Error("COPY FROM whose reader fails (CopyFail) succeeded")
	}
	var one int
	if err := proxy.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("query after the failed COPYs: %d, %v", one, err)
	}
	var rows int
	if err := proxy.QueryRow(ctx, "select count(*) from t").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("rows committed by failed COPYs = %d, %v; want 0", rows, err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }
