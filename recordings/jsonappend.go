package recordings

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The query log writes one line per statement, so its encoder appends to
// a reused buffer instead of going through encoding/json's reflection.
// For valid UTF-8 the bytes are the same as encoding/json writes with
// SetEscapeHTML(false), which TestAppendQueryEventMatchesEncodingJSON
// checks.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// without HTML escaping: quote, backslash and control characters are
// escaped, and U+2028 and U+2029 are written as \u escapes. Each byte of
// invalid UTF-8 becomes U+FFFD, written as the character itself, where
// encoding/json writes the escape; both decode to the same string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = utf8.AppendRune(dst, utf8.RuneError)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendQueryEvent appends the JSON line of ev, with its newline, in the
// field order and with the omissions of queryEventLine. It formats the
// start time through stamp.
func appendQueryEvent(dst []byte, ev QueryEvent, stamp *secondStamp) []byte {
	dst = append(dst, `{"type":"`+queryLogTypeQuery+`","start":"`...)
	dst = stamp.appendTime(dst, ev.Start)
	dst = append(dst, `","duration_us":`...)
	dst = strconv.AppendInt(dst, ev.Duration.Microseconds(), 10)
	dst = append(dst, `,"text":`...)
	dst = appendJSONString(dst, ev.Text)

	if len(ev.Params) > 0 {
		dst = append(dst, `,"params":[`...)
		for i, p := range ev.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, p)
		}
		dst = append(dst, ']')
	}
	if ev.Tag != "" {
		dst = append(dst, `,"tag":`...)
		dst = appendJSONString(dst, ev.Tag)
	}
	dst = append(dst, `,"rows":`...)
	dst = strconv.AppendInt(dst, ev.Rows, 10)

	if ev.ErrorCode != "" {
		dst = append(dst, `,"error_code":`...)
		dst = appendJSONString(dst, ev.ErrorCode)
	}
	if ev.ErrorMessage != "" {
		dst = append(dst, `,"error_message":`...)
		dst = appendJSONString(dst, ev.ErrorMessage)
	}
	return append(dst, '}', '\n')
}

// logTimeLayout is the time format of the query log: UTC with
// microseconds.
const logTimeLayout = "2006-01-02T15:04:05.000000Z"

// secondStamp is a cache of the formatted date and time of one second, so
// a line whose query started in the same second as the last one formats
// only its microseconds. AppendFormat took about 2% of jitgate's CPU in a
// profile of pgbench -S with one client.
type secondStamp struct {
	unix   int64  // the second, as Unix time
	prefix []byte // unix in logTimeLayout up to the fraction: "2006-01-02T15:04:05."
}

// appendTime appends t in logTimeLayout, exactly as t.UTC().AppendFormat
// does.
func (s *secondStamp) appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if unix := t.Unix(); s.prefix == nil || unix != s.unix {
		s.unix = unix
		s.prefix = t.AppendFormat(s.prefix[:0], "2006-01-02T15:04:05.")
	}
	dst = append(dst, s.prefix...)

	// The layout truncates to microseconds.
	var digits [6]byte
	micros := t.Nanosecond() / 1000
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + micros%10)
		micros /= 10
	}
	dst = append(dst, digits[:]...)
	return append(dst, 'Z')
}
