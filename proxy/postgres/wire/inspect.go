package wire

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
)

// The decoders below read message bodies in place for query capture. Each
// accepts a body cut short by Rules.Inspect and returns what it could read,
// with ok false when a field it returns is incomplete.

// QueryText returns the statement text of a Query body.
func QueryText(body []byte) (text string, ok bool) {
	s, _, ok := cutString(body)
	if !ok {
		return string(body), false
	}
	return s, true
}

// ParseMessage is the part of a Parse body that query capture uses.
type ParseMessage struct {
	Statement string // prepared statement name; empty for the unnamed one
	Query     string
}

// DecodeParse reads a Parse body.
func DecodeParse(body []byte) (m ParseMessage, ok bool) {
	name, rest, ok := cutString(body)
	if !ok {
		return m, false
	}
	m.Statement = name
	m.Query, _, ok = cutString(rest)
	if !ok {
		m.Query = string(rest)
	}
	return m, ok
}

// BindMessage is a Bind body. Params alias the body.
type BindMessage struct {
	Portal    string
	Statement string
	// Formats are the parameter format codes as sent: none means all
	// text, one applies to every parameter.
	Formats []int16
	// Params are the values; nil is SQL NULL.
	Params [][]byte
}

// ParamFormat returns the format code of parameter i: 0 text, 1 binary.
func (m *BindMessage) ParamFormat(i int) int16 {
	switch len(m.Formats) {
	case 0:
		return 0
	case 1:
		return m.Formats[0]
	}
	if i < len(m.Formats) {
		return m.Formats[i]
	}
	return 0
}

// DecodeBind reads a Bind body. With params false it stops after the
// names, which is all the relay needs when parameters are not recorded.
func DecodeBind(body []byte, params bool) (m BindMessage, ok bool) {
	r := reader{b: body}
	m.Portal, ok = r.cstring()
	if !ok {
		return m, false
	}
	m.Statement, ok = r.cstring()
	if !ok || !params {
		return m, ok
	}

	nFormats, ok := r.uint16()
	if !ok {
		return m, false
	}
	if int(nFormats)*2 > r.left() {
		return m, false
	}
	m.Formats = make([]int16, nFormats)
	for i := range m.Formats {
		v, _ := r.uint16()
		m.Formats[i] = int16(v)
	}

	nParams, ok := r.uint16()
	if !ok {
		return m, false
	}
	// Each parameter takes at least its 4-byte length, so a count larger
	// than the body allows is cut to what the body can hold.
	m.Params = make([][]byte, 0, min(int(nParams), r.left()/4))
	for range int(nParams) {
		size, ok := r.uint32()
		if !ok {
			return m, false
		}
		if int32(size) < 0 {
			m.Params = append(m.Params, nil)
			continue
		}
		v, ok := r.bytes(int(size))
		if !ok {
			return m, false
		}
		m.Params = append(m.Params, v)
	}
	return m, true
}

// DecodeExecute reads an Execute body: the portal and the row limit, where
// 0 means no limit.
func DecodeExecute(body []byte) (portal string, maxRows uint32, ok bool) {
	r := reader{b: body}
	portal, ok = r.cstring()
	if !ok {
		return "", 0, false
	}
	maxRows, ok = r.uint32()
	return portal, maxRows, ok
}

// DecodeClose reads a Close body: 'S' for a prepared statement or 'P' for
// a portal, and its name.
func DecodeClose(body []byte) (kind byte, name string, ok bool) {
	r := reader{b: body}
	k, ok := r.byte()
	if !ok {
		return 0, "", false
	}
	name, ok = r.cstring()
	return k, name, ok
}

// CommandTag returns the tag of a CommandComplete body, such as
// "INSERT 0 5" or "SELECT 3".
func CommandTag(body []byte) string {
	s, _, ok := cutString(body)
	if !ok {
		return string(body)
	}
	return s
}

// TagRows returns the row count at the end of a command tag ("SELECT 3",
// "INSERT 0 5", "COPY 7"), and false for tags without one ("BEGIN").
func TagRows(tag string) (int64, bool) {
	i := strings.LastIndexByte(tag, ' ')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(tag[i+1:], 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// ErrorFields are the fields of an ErrorResponse that query capture keeps.
type ErrorFields struct {
	Severity string // non-localized when the server sent it
	Code     string
	Message  string
}

// DecodeError reads an ErrorResponse or NoticeResponse body: a list of
// fields, each a type byte and a NUL-terminated string, ended by a zero.
func DecodeError(body []byte) (f ErrorFields, ok bool) {
	r := reader{b: body}
	localized := ""
	for {
		t, ok := r.byte()
		if !ok {
			return f, false
		}
		if t == 0 {
			break
		}
		v, ok := r.cstring()
		if !ok {
			return f, false
		}
		switch t {
		case 'S':
			localized = v
		case 'V':
			f.Severity = v
		case 'C':
			f.Code = v
		case 'M':
			f.Message = v
		}
	}
	if f.Severity == "" {
		f.Severity = localized
	}
	return f, true
}

// reader decodes fields from a message body without allocating, except
// for strings.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) left() int { return len(r.b) - r.pos }

func (r *reader) byte() (byte, bool) {
	if r.left() < 1 {
		return 0, false
	}
	r.pos++
	return r.b[r.pos-1], true
}

func (r *reader) uint16() (uint16, bool) {
	if r.left() < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(r.b[r.pos:])
	r.pos += 2
	return v, true
}

func (r *reader) uint32() (uint32, bool) {
	if r.left() < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(r.b[r.pos:])
	r.pos += 4
	return v, true
}

func (r *reader) bytes(n int) ([]byte, bool) {
	if n < 0 || r.left() < n {
		return nil, false
	}
	v := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return v, true
}

func (r *reader) cstring() (string, bool) {
	i := bytes.IndexByte(r.b[r.pos:], 0)
	if i < 0 {
		return "", false
	}
	s := string(r.b[r.pos : r.pos+i])
	r.pos += i + 1
	return s, true
}
