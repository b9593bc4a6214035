package configs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem in a config file. Load and Parse return every
// problem they find, joined with errors.Join, so callers reach each one
// with errors.As or by unwrapping the joined error.
type FieldError struct {
	File string // file name as passed to Load or Parse
	Line int    // 1-based line of the key or list item; 0 when unknown
	Path string // key path such as contracts[1].approval.quorum; empty for YAML syntax errors
	Msg  string // what is wrong, the value, and how to fix it
}

// Error formats the problem as "file:line: path: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinFieldErrors sorts the errors by line, so they read in file order, and
// joins them. It returns nil for an empty list.
func joinFieldErrors(list []*FieldError) error {
	if len(list) == 0 {
		return nil
	}
	slices.SortStableFunc(list, func(a, b *FieldError) int { return a.Line - b.Line })
	joined := make([]error, len(list))
	for i, fe := range list {
		joined[i] = fe
	}
	return errors.Join(joined...)
}

// FieldErrors returns the FieldErrors inside err, in file order. It returns
// nil when err holds none.
func FieldErrors(err error) []*FieldError {
	var list []*FieldError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			list = append(list, fe)
			return
		}
		if multi, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range multi.Unwrap() {
				walk(inner)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return list
}
