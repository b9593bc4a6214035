package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// clientError is a refusal that the client sees as a FATAL ErrorResponse.
type clientError struct {
	code   string // SQLSTATE
	msg    string
	detail string
	hint   string
	cause  error // for the log, never sent
}

func (e *clientError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *clientError) Unwrap() error { return e.cause }

func reject(code, format string, args ...any) *clientError {
	return &clientError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (e *clientError) withHint(format string, args ...any) *clientError {
	e.hint = fmt.Sprintf(format, args...)
	return e
}

// notice renders the error as the fields of a FATAL ErrorResponse.
func (e *clientError) notice() wire.Notice {
	return wire.Notice{Severity: "FATAL", Code: e.code, Message: e.msg, Detail: e.detail, Hint: e.hint}
}

// asClientError turns err into the error sent to the client. Policy
// refusals keep their message, which the engine writes for the person
// connecting. Errors from the upstream server pass through as the server
// sent them. Anything else becomes an internal error without details,
// which the log keeps.
func asClientError(err error) *clientError {
	var ce *clientError
	if errors.As(err, &ce) {
		return ce
	}
	var pe *approval.PolicyError
	if errors.As(err, &pe) {
		code := wire.CodeInvalidAuthorization
		if errors.Is(err, approval.ErrSessionCap) {
			code = wire.CodeTooManyConnections
		}
		return &clientError{code: code, msg: "jitgate: " + pe.Msg, cause: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return &clientError{code: pgErr.Code, msg: pgErr.Message, detail: pgErr.Detail, hint: pgErr.Hint, cause: err}
	}
	return &clientError{code: wire.CodeInternalError, msg: "jitgate: internal error; the administrator can find the cause in the jitgate log", cause: err}
}
