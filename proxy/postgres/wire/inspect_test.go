package wire

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// body encodes msg with pgproto3 and strips the type and length.
func body(t *testing.T, msg interface{ Encode([]byte) ([]byte, error) }) []byte {
	t.Helper()
	b, err := msg.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b[5:]
}

func TestDecodeBind(t *testing.T) {
	msg := &pgproto3.Bind{
		DestinationPortal: "p1", PreparedStatement: "s1",
		ParameterFormatCodes: []int16{0, 1},
		Parameters:           [][]byte{[]byte("42"), nil, {0xde, 0xad}},
	}
	b := body(t, msg)
	m, ok := DecodeBind(b, true)
	if !ok {
		t.Fatal("DecodeBind: not ok")
	}
	if m.Portal != "p1" || m.Statement != "s1" {
		t.Errorf("portal, statement = %q, %q", m.Portal, m.Statement)
	}
	if len(m.Params) != 3 || string(m.Params[0]) != "42" || m.Params[1] != nil || !bytes.Equal(m.Params[2], []byte{0xde, 0xad}) {
		t.Errorf("params = %q", m.Params)
	}
	if m.ParamFormat(0) != 0 || m.ParamFormat(1) != 1 || m.ParamFormat(2) != 0 {
		t.Errorf("formats = %v", m.Formats)
	}

	names, ok := DecodeBind(b, false)
	if !ok || names.Statement != "s1" || names.Params != nil {
		t.Errorf("DecodeBind without params = %+v, %v", names, ok)
	}
	// The last two bytes are the result format count, which DecodeBind
	// does not read.
	for cut := range len(b) - 2 {
		if _, ok := DecodeBind(b[:cut], true); ok {
			t.Fatalf("DecodeBind of the first %d of %d bytes reported ok", cut, len(b))
		}
	}
}

func TestDecodeBindSingleFormat(t *testing.T) {
	b := body(t, &pgproto3.Bind{ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{1}, {2}}})
	m, ok := DecodeBind(b, true)
	if !ok || m.ParamFormat(0) != 1 || m.ParamFormat(1) != 1 {
		t.Errorf("one format code must apply to every parameter: %+v", m)
	}
}

func TestDecodeOthers(t *testing.T) {
	if q, ok := QueryText(body(t, &pgproto3.Query{String: "select 1"})); !ok || q != "select 1" {
		t.Errorf("QueryText = %q, %v", q, ok)
	}
	if q, ok := QueryText([]byte("select 1")); ok || q != "select 1" {
		t.Errorf("QueryText of a cut body = %q, %v; want the text and false", q, ok)
	}
	p, ok := DecodeParse(body(t, &pgproto3.Parse{Name: "s", Query: "select $1", ParameterOIDs: []uint32{23}}))
	if !ok || p.Statement != "s" || p.Query != "select $1" {
		t.Errorf("DecodeParse = %+v, %v", p, ok)
	}
	portal, rows, ok := DecodeExecute(body(t, &pgproto3.Execute{Portal: "c1", MaxRows: 100}))
	if !ok || portal != "c1" || rows != 100 {
		t.Errorf("DecodeExecute = %q, %d, %v", portal, rows, ok)
	}
	kind, name, ok := DecodeClose(body(t, &pgproto3.Close{ObjectType: 'S', Name: "s"}))
	if !ok || kind != 'S' || name != "s" {
		t.Errorf("DecodeClose = %q, %q, %v", kind, name, ok)
	}
	if tag := CommandTag(body(t, &pgproto3.CommandComplete{CommandTag: []byte("INSERT 0 5")})); tag != "INSERT 0 5" {
		t.Errorf("CommandTag = %q", tag)
	}
	f, ok := DecodeError(body(t, &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01", Message: "relation \"t\" does not exist"}))
	if !ok || f.Code != "42P01" || f.Severity != "ERROR" || f.Message != `relation "t" does not exist` {
		t.Errorf("DecodeError = %+v, %v", f, ok)
	}
}

func TestTagRows(t *testing.T) {
	tests := []struct {
		tag  string
		rows int64
		ok   bool
	}{
		{"SELECT 3", 3, true},
		{"INSERT 0 5", 5, true},
		{"COPY 5000000", 5000000, true},
		{"UPDATE 0", 0, true},
		{"BEGIN", 0, false},
		{"CREATE TABLE", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		rows, ok := TagRows(tt.tag)
		if rows != tt.rows || ok != tt.ok {
			t.Errorf("TagRows(%q) = %d, %v; want %d, %v", tt.tag, rows, ok, tt.rows, tt.ok)
		}
	}
}
