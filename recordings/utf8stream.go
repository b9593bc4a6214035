package recordings

import (
	"strings"
	"unicode/utf8"
)

// utf8Stream turns a byte stream that reads cut at arbitrary points into
// valid UTF-8 strings, because every asciicast event must be a JSON string.
// A multi-byte sequence split across two reads is held back and completed
// by the next read. Bytes that can never form a valid sequence become
// U+FFFD, one per byte.
type utf8Stream struct {
	// pending holds the start of an incomplete sequence, at most
	// utf8.UTFMax-1 bytes.
	pending []byte
}

// next returns the valid text of the held bytes followed by data, holding
// back an incomplete sequence at the end.
func (s *utf8Stream) next(data []byte) string {
	buf := make([]byte, 0, len(s.pending)+len(data))
	buf = append(buf, s.pending...)
	buf = append(buf, data...)

	cut := incompleteSuffixStart(buf)
	s.pending = append(s.pending[:0], buf[cut:]...)
	return validUTF8(buf[:cut])
}

// flush returns the held bytes, which never completed, as U+FFFD each.
func (s *utf8Stream) flush() string {
	text := validUTF8(s.pending)
	s.pending = s.pending[:0]
	return text
}

// incompleteSuffixStart returns the index where a trailing incomplete but
// so far valid UTF-8 sequence starts, or len(b) when b ends cleanly.
func incompleteSuffixStart(b []byte) int {
	lowest := max(len(b)-(utf8.UTFMax-1), 0)
	for i := len(b) - 1; i >= lowest; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		// FullRune is false only for a valid prefix that needs more bytes;
		// an invalid byte counts as a full (one-byte) rune.
		if !utf8.FullRune(b[i:]) {
			return i
		}
		return len(b)
	}
	return len(b)
}

// validUTF8 returns b as a string with each byte of an invalid sequence
// replaced by U+FFFD. strings.ToValidUTF8 would merge a run of invalid
// bytes into one replacement, which hides how many bytes were lost.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var text strings.Builder
	text.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			text.WriteRune(utf8.RuneError)
		} else {
			text.Write(b[:size])
		}
		b = b[size:]
	}
	return text.String()
}
