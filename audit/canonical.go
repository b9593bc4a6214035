package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// errNotObject is returned for details that are not a JSON object.
var errNotObject = errors.New("details must be a JSON object")

// canonicalObject returns src, which must hold one JSON object, in the
// canonical form that doc.go defines.
func canonicalObject(src []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(src, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber() // keeps each number's literal text
	var buf bytes.Buffer
	if err := writeCanonical(&buf, dec); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the details object")
	}
	return buf.Bytes(), nil
}

// writeCanonical reads one JSON value from dec and writes its canonical form.
func writeCanonical(buf *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return writeCanonicalObject(buf, dec)
		}
		return writeCanonicalArray(buf, dec)
	case string:
		writeString(buf, v)
	case json.Number:
		buf.WriteString(v.String())
	case bool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case nil:
		buf.WriteString("null")
	}
	return nil
}

// writeCanonicalObject writes the members of an object whose '{' dec has
// read, sorted by key.
func writeCanonicalObject(buf *bytes.Buffer, dec *json.Decoder) error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var value bytes.Buffer
		if err := writeCanonical(&value, dec); err != nil {
			return err
		}
		members = append(members, member{key: tok.(string), value: value.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return err
	}

	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
	buf.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			if m.key == members[i-1].key {
				return fmt.Errorf("duplicate key %q in details", m.key)
			}
			buf.WriteByte(',')
		}
		writeString(buf, m.key)
		buf.WriteByte(':')
		buf.Write(m.value)
	}
	buf.WriteByte('}')
	return nil
}

// writeCanonicalArray writes the elements of an array whose '[' dec has
// read, in their order.
func writeCanonicalArray(buf *bytes.Buffer, dec *json.Decoder) error {
	buf.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeCanonical(buf, dec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return err
	}
	buf.WriteByte(']')
	return nil
}

// writeString writes s as a JSON string. It escapes the quotation mark,
// the reverse solidus and the control characters U+0000 to U+001F: five of
// them as \b \t \n \f \r, the others as \u00xx in lowercase hex. Every other
// byte is written unchanged.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case c == '\b':
			buf.WriteString(`\b`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\f':
			buf.WriteString(`\f`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}
