package sqlite

import (
	"strconv"
	"strings"
)

// where is a WHERE clause being built: conditions joined by AND, and their
// arguments.
type where struct {
	conds []string
	args  []any
}

// add appends cond, whose placeholders take args.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// equal adds "column = value" unless value is empty, because an empty
// filter field matches anything.
func (w *where) equal(column, value string) {
	if value != "" {
		w.add(column+" = ?", value)
	}
}

// equalID adds "column = id" unless id is 0.
func (w *where) equalID(column string, id int64) {
	if id != 0 {
		w.add(column+" = ?", id)
	}
}

// in adds "column IN (values...)" unless values is empty.
func in[S ~string](w *where, column string, values []S) {
	if len(values) == 0 {
		return
	}
	marks := strings.Repeat("?, ", len(values))
	marks = marks[:len(marks)-2]
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	w.add(column+" IN ("+marks+")", args...)
}

// String returns the WHERE clause with a leading space, or "".
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limitClause returns " LIMIT n", or "" when n <= 0 means no limit.
func limitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}
