package web

import "github.com/jitgate/jitgate/identity"

// Who may read what through the API. The approval engine decides who may
// change a record; these rules only keep people from reading records that
// do not concern them:
//
//   - everyone sees their own requests, grants and sessions;
//   - an approver (at any stage) or break-glass reviewer of a contract sees
//     every record under that contract;
//   - the audit endpoints are open to anyone who approves or reviews under
//     at least one contract.
//
// NOTE: there is no auditor role in the config yet; once there is, the
// audit endpoints should check it instead of approver membership.

// manages reports whether p approves or reviews under the contract.
func (a *api) manages(p *identity.Person, contractID string) bool {
	c := a.opts.Config.Contract(contractID)
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
func (a *api) maySee(p *identity.Person, owner, contractID string) bool {
	return p.Name == owner || a.manages(p, contractID)
}

// managesAny reports whether p approves or reviews under any contract.
// Such people see all records under their contracts, so lists cannot be
// narrowed to their own records in the store query.
func (a *api) managesAny(p *identity.Person) bool {
	for i := range a.opts.Config.Contracts {
		if a.manages(p, a.opts.Config.Contracts[i].ID) {
			return true
		}
	}
	return false
}

// mayAudit reports whether p may verify and export the audit log.
func (a *api) mayAudit(p *identity.Person) bool { return a.managesAny(p) }
