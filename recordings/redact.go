package recordings

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces each match of a redaction pattern.
const Redacted = "[REDACTED]"

// Parameter recording modes, as the contract's recording.parameters names
// them.
const (
	ParamsOff      = "off"
	ParamsOn       = "on"
	ParamsRedacted = "redacted"
)

// nullParam is the text written for a SQL NULL parameter.
const nullParam = "NULL"

// Redactor replaces the matches of a contract's redaction patterns. A nil
// *Redactor returns its input unchanged.
type Redactor struct {
	patterns []*regexp.Regexp
}

// NewRedactor compiles patterns, Go regular expressions (RE2 syntax).
func NewRedactor(patterns []string) (*Redactor, error) {
	r := &Redactor{}
	for i, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("recordings: redaction pattern %d is empty: remove it or write a regular expression", i)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("recordings: redaction pattern %d %q is not a valid Go regular expression: %w", i, p, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// Redact returns s with every match of every pattern replaced by
// [REDACTED], applying the patterns in order.
//
// NOTE: Redact works on one string at a time. A secret typed at a terminal
// arrives one keystroke per read, so input must be collected into lines
// before it is redacted, or the pattern never matches.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, re := range r.patterns {
		s = re.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// RedactParams returns bound parameter values for the query log according
// to mode:
//
//   - off: nil, so no parameters are recorded.
//   - on: each value as text. A value that is not printable UTF-8 text,
//     such as a parameter sent in binary format, is written as \x and its
//     bytes in hex, as PostgreSQL writes bytea.
//   - redacted: each value as [REDACTED len=N], N being its length in bytes.
//
// A nil value is SQL NULL and is written as NULL in modes on and redacted.
// An unknown mode is treated as redacted, the default, so that a typo
// never records values.
//
// NOTE: in mode on, SQL NULL and the text value "NULL" look alike.
func RedactParams(mode string, params [][]byte) []string {
	if mode == ParamsOff {
		return nil
	}
	out := make([]string, len(params))
	for i, value := range params {
		switch {
		case value == nil:
			out[i] = nullParam
		case mode == ParamsOn:
			out[i] = paramText(value)
		default:
			out[i] = "[REDACTED len=" + strconv.Itoa(len(value)) + "]"
		}
	}
	return out
}

// paramText returns value as text when it is printable UTF-8, and as \x
// followed by hex otherwise.
func paramText(value []byte) string {
	if utf8.Valid(value) && printable(value) {
		return string(value)
	}
	return `\x` + hex.EncodeToString(value)
}

func printable(value []byte) bool {
	for _, r := range string(value) {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
