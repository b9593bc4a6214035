package sshproxy

import "unicode/utf8"

// Control bytes a terminal in raw mode sends.
const (
	keyInterrupt = 0x03 // Ctrl-C
	keyEOF       = 0x04 // Ctrl-D
	keyBackspace = 0x08 // Ctrl-H
	keyKillLine  = 0x15 // Ctrl-U
	keyEscape    = 0x1b
	keyDelete    = 0x7f
)

// editResult is the outcome of one feed of typed bytes.
type editResult int

const (
	editMore  editResult = iota // the line goes on
	editDone                    // Enter ended the line
	editAbort                   // Ctrl-C, or Ctrl-D on an empty line
)

// lineEditor reads one line from a terminal in raw mode: the client's
// terminal echoes nothing, so the editor returns the echo to write back.
// It handles Backspace, Delete, Ctrl-U and Enter, skips escape sequences
// such as arrow keys, and keeps at most maxPromptLen bytes.
type lineEditor struct {
	line []byte
	// inEscape is set after ESC until the sequence's final byte.
	inEscape bool
	// escapeKind is the byte after ESC: '[' starts a CSI sequence, 'O' an
	// SS3 sequence (ECMA-48); 0 means none was read yet.
	escapeKind byte
}

// feed processes typed bytes. It returns the bytes to echo and whether the
// line is done or aborted; bytes after the end of the line are dropped.
func (e *lineEditor) feed(data []byte) (echo []byte, result editResult) {
	for _, b := range data {
		if e.inEscape {
			e.skipEscape(b)
			continue
		}
		switch {
		case b == '\r' || b == '\n':
			return append(echo, '\r', '\n'), editDone
		case b == keyInterrupt:
			return append(echo, '^', 'C', '\r', '\n'), editAbort
		case b == keyEOF && len(e.line) == 0:
			return append(echo, '\r', '\n'), editAbort
		case b == keyBackspace || b == keyDelete:
			if n := e.eraseRune(); n > 0 {
				echo = append(echo, '\b', ' ', '\b')
			}
		case b == keyKillLine:
			for e.eraseRune() > 0 {
				echo = append(echo, '\b', ' ', '\b')
			}
		case b == keyEscape:
			e.inEscape, e.escapeKind = true, 0
		case b < ' ':
			// Other control keys do nothing at a prompt.
		case len(e.line) < maxPromptLen:
			e.line = append(e.line, b)
			echo = append(echo, b)
		}
	}
	return echo, editMore
}

// skipEscape consumes one byte of an escape sequence. "ESC [" starts a CSI
// sequence that ends with a byte in 0x40..0x7e, and "ESC O" an SS3
// sequence of one more byte; arrow keys send either. Any other sequence is
// ESC and one byte.
func (e *lineEditor) skipEscape(b byte) {
	switch {
	case e.escapeKind == 0 && (b == '[' || b == 'O'):
		e.escapeKind = b
	case e.escapeKind == '[' && (b < 0x40 || b > 0x7e):
		// A CSI parameter or intermediate byte.
	default:
		e.inEscape = false
	}
}

// eraseRune removes the last character and returns how many bytes it had.
func (e *lineEditor) eraseRune() int {
	if len(e.line) == 0 {
		return 0
	}
	_, size := utf8.DecodeLastRune(e.line)
	e.line = e.line[:len(e.line)-size]
	return size
}

// text returns the line typed so far.
func (e *lineEditor) text() string { return string(e.line) }
