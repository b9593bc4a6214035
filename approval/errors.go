package approval

import (
	"errors"
	"fmt"
)

// Error categories. Every error the engine returns for a policy reason
// wraps one of these, so callers map them with errors.Is (the HTTP API turns
// them into status codes) while the message stays specific.
var (
	ErrNotFound      = errors.New("not found")
	ErrOutOfScope    = errors.New("out of scope")
	ErrNotEligible   = errors.New("not eligible")
	ErrInvalid       = errors.New("invalid request")
	ErrOutsideHours  = errors.New("outside permitted hours")
	ErrNotApprover   = errors.New("not an approver")
	ErrSelfApproval  = errors.New("self-approval forbidden")
	ErrAlreadyVoted  = errors.New("already decided")
	ErrNotPending    = errors.New("request not pending")
	ErrNotActive     = errors.New("grant not active")
	ErrExtensionCap  = errors.New("extension cap reached")
	ErrNoGrant       = errors.New("no active grant")
	ErrSessionCap    = errors.New("session cap reached")
	ErrNotRequester  = errors.New("not the requester")
	ErrContractEnded = errors.New("contract not in effect")
)

// PolicyError is a refusal with a message written for the person who asked.
type PolicyError struct {
	Kind error // one of the category errors above
	Msg  string
}

func (e *PolicyError) Error() string { return e.Msg }

func (e *PolicyError) Unwrap() error { return e.Kind }

func refuse(kind error, format string, args ...any) error {
	return &PolicyError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
