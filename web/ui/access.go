package ui

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/store"
)

// Who may read what: the same rules as the JSON API. Everyone may read
// their own requests and grants. An approver (at any stage) or break-glass
// reviewer of a contract may read every record under it. The engine alone
// decides who may change a record.

// manages reports whether p approves or reviews under the contract.
func (u *ui) manages(p *identity.Person, contractID string) bool {
	c := u.cfg.Contract(contractID)
	if c == nil {
		return false
	}
	for _, s := range c.Stages() {
		if s.Approvers.Contains(p.Name, p.Groups) {
			return true
		}
	}
	return c.BreakGlass != nil && c.BreakGlass.Reviewers.Contains(p.Name, p.Groups)
}

// maySee reports whether p may read a record owned by owner under the
// contract.
func (u *ui) maySee(p *identity.Person, owner, contractID string) bool {
	return p.Name == owner || u.manages(p, contractID)
}

// approvesAtStage reports whether p is among the approvers of any stage of
// the contract. The engine lets those people and the grantee revoke a
// grant.
func approvesAtStage(c *configs.Contract, p *identity.Person) bool {
	for _, s := range c.Stages() {
		if s.Approvers.Contains(p.Name, p.Groups) {
			return true
		}
	}
	return false
}

// whyNoDecision turns the engine's rejection of a vote into a sentence for
// the viewer of the request page.
func whyNoDecision(err error, r *store.Request, c *configs.Contract) string {
	switch {
	case errors.Is(err, approval.ErrSelfApproval):
		return fmt.Sprintf("You opened this request, and contract %s forbids self-approval.", r.ContractID)
	case errors.Is(err, approval.ErrNotApprover) && c != nil:
		stages := c.Stages()
		if r.Stage < len(stages) {
			s := stages[r.Stage]
			return fmt.Sprintf("You are not in the approver groups of stage %q: it needs %s.", s.Name, describePrincipals(s.Approvers))
		}
	case errors.Is(err, approval.ErrAlreadyVoted):
		return "You already decided on this request."
	case errors.Is(err, approval.ErrNotPending) && r.State == store.RequestPending:
		return fmt.Sprintf("This request expired at %s without a decision.", formatTime(r.ExpiresAt))
	case errors.Is(err, approval.ErrNotPending):
		return fmt.Sprintf("This request is %s, so it takes no more decisions.", r.State)
	}
	var pe *approval.PolicyError
	if errors.As(err, &pe) {
		return pe.Msg
	}
	return err.Error()
}

// policyStatus is the HTTP status of a page that shows an engine rejection.
func policyStatus(err error) int {
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, approval.ErrSelfApproval), errors.Is(err, approval.ErrNotApprover),
		errors.Is(err, approval.ErrNotRequester), errors.Is(err, approval.ErrNotEligible):
		return http.StatusForbidden
	case errors.Is(err, approval.ErrAlreadyVoted), errors.Is(err, approval.ErrNotPending),
		errors.Is(err, approval.ErrNotActive):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// isPolicy reports whether err is a rejection by the engine, as opposed to
// a failure of the store.
func isPolicy(err error) bool {
	var pe *approval.PolicyError
	return errors.As(err, &pe)
}
