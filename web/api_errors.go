package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jitgate/jitgate/approval"
)

// Error codes of the JSON API. Scripts may depend on them: a code keeps its
// meaning and status once released.
//
//	code             status  meaning
//	bad_json         400     body is not one JSON object of the expected shape, or is over 1 MiB
//	bad_request      400     a query parameter is malformed
//	unauthenticated  401     no bearer token, or one that matches no person
//	out_of_scope     403     no contract covers the target and login or role
//	not_eligible     403     the person may not request under the covering contract
//	not_approver     403     the person may not approve, see or change this record
//	self_approval    403     the contract forbids deciding on one's own request
//	not_requester    403     only the requester may do this
//	not_found        404     no such request, grant, contract or route
//	already_decided  409     this person already voted, or the grant was already reviewed
//	not_pending      409     the request was already decided, expired or cancelled
//	not_active       409     the grant was revoked or has ended
//	session_cap      409     the grant has its maximum of open sessions
//	no_grant         409     the person has no active grant for this
//	invalid          422     the request breaks a contract rule, or a field value is invalid
//	outside_hours    422     the contract does not permit access at this time
//	extension_cap    422     the contract allows no further extension of this grant
//	contract_ended   422     the contract is not in effect now
//	internal         500     an unexpected failure; the server log has the cause
//	unavailable      503     the store cannot be reached, or the server is stopping
//
// 400 means the HTTP message itself is malformed; 422 means it was
// understood and a rule rejected it.
const (
	codeBadJSON        = "bad_json"
	codeBadRequest     = "bad_request"
	codeUnauthn        = "unauthenticated"
	codeNotApprover    = "not_approver"
	codeNotFound       = "not_found"
	codeInvalid        = "invalid"
	codeInternal       = "internal"
	codeUnavailable    = "unavailable"
	codeAlreadyDecided = "already_decided"
)

// policyCodes maps the approval engine's error categories to codes and
// statuses.
var policyCodes = []struct {
	kind   error
	status int
	code   string
}{
	{approval.ErrNotFound, http.StatusNotFound, codeNotFound},
	{approval.ErrOutOfScope, http.StatusForbidden, "out_of_scope"},
	{approval.ErrNotEligible, http.StatusForbidden, "not_eligible"},
	{approval.ErrNotApprover, http.StatusForbidden, codeNotApprover},
	{approval.ErrSelfApproval, http.StatusForbidden, "self_approval"},
	{approval.ErrNotRequester, http.StatusForbidden, "not_requester"},
	{approval.ErrAlreadyVoted, http.StatusConflict, codeAlreadyDecided},
	{approval.ErrNotPending, http.StatusConflict, "not_pending"},
	{approval.ErrNotActive, http.StatusConflict, "not_active"},
	{approval.ErrSessionCap, http.StatusConflict, "session_cap"},
	{approval.ErrNoGrant, http.StatusConflict, "no_grant"},
	{approval.ErrInvalid, http.StatusUnprocessableEntity, codeInvalid},
	{approval.ErrOutsideHours, http.StatusUnprocessableEntity, "outside_hours"},
	{approval.ErrExtensionCap, http.StatusUnprocessableEntity, "extension_cap"},
	{approval.ErrContractEnded, http.StatusUnprocessableEntity, "contract_ended"},
}

// ErrorBody is the JSON body of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code, which scripts test, and the message, which
// people read.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiError is an error the handlers raise with its status and code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func fail(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return fail(http.StatusUnprocessableEntity, codeInvalid, format, args...)
}

func badRequest(format string, args ...any) error {
	return fail(http.StatusBadRequest, codeBadRequest, format, args...)
}

func notFound(format string, args ...any) error {
	return fail(http.StatusNotFound, codeNotFound, format, args...)
}

func forbidden(format string, args ...any) error {
	return fail(http.StatusForbidden, codeNotApprover, format, args...)
}

// errInternal replaces causes that must not reach the client.
var errInternal = &apiError{status: http.StatusInternalServerError, code: codeInternal}

// classify turns any handler error into the status, code and message
// sent to the client. Errors that
// are neither an *apiError nor an approval.PolicyError become internal.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var pe *approval.PolicyError
	if errors.As(err, &pe) {
		for _, pc := range policyCodes {
			if errors.Is(pe.Kind, pc.kind) {
				return &apiError{status: pc.status, code: pc.code, msg: pe.Msg}
			}
		}
	}
	if errors.Is(err, context.Canceled) {
		return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg: "the call was cancelled because the client went away or the server is stopping; retry"}
	}
	return errInternal
}

// writeError sends err as a JSON error body. An internal error is logged
// with its cause, and the client gets only the HTTP request id to quote.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	noteOutcome(r).code = ae.code
	msg := ae.msg
	if ae.code == codeInternal {
		requestLogger(r).Error("API call failed", "path", r.URL.Path, "err", err)
		msg = fmt.Sprintf("internal error; the server log has the cause under http_request=%s", requestID(r))
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="jitgate"`)
	}
	writeJSON(w, ae.status, ErrorBody{Error: ErrorDetail{Code: ae.code, Message: msg}})
}
