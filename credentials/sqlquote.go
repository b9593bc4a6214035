package credentials

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
)

// quoteIdentifier returns name as a double-quoted SQL identifier.
func quoteIdentifier(name string) string {
	return pgx.Identifier{name}.Sanitize()
}

// quoteLiteral returns s as an SQL string literal. CREATE ROLE takes no
// bind parameters, so values must be written into the statement. Single
// quotes are doubled. When s contains a backslash, the E'...' form with
// doubled backslashes is used, which reads the same whatever
// standard_conforming_strings is set to, as libpq's PQescapeLiteral does.
func quoteLiteral(s string) (string, error) {
	if strings.ContainsRune(s, 0) {
		return "", errors.New("credentials: SQL string literal contains a NUL byte, which PostgreSQL text cannot hold")
	}
	quoted := strings.ReplaceAll(s, "'", "''")
	if !strings.Contains(s, `\`) {
		return "'" + quoted + "'", nil
	}
	return "E'" + strings.ReplaceAll(quoted, `\`, `\\`) + "'", nil
}
