package configs

import (
	"fmt"
	"strings"
)

// positions records where each key path was written, for error messages.
type positions struct {
	lines map[string]int  // key path → line of the key or list item
	zeros map[string]bool // key paths written explicitly with a zero value
}

// line returns the line of path, or of its nearest written ancestor when
// the key itself is missing, so "window.max is missing" points at window.
func (p positions) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// explicitZero reports whether path was written with a zero value, such as
// "quorum: 0", before defaults replaced it.
func (p positions) explicitZero(path string) bool { return p.zeros[path] }

// parentPath strips the last key or index: a.b[2] → a.b → a → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		return path[:strings.LastIndex(path, "[")]
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }
