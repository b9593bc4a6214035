package configs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// validateApproval checks the approval rule. It is either one stage,
// written as approvers and quorum, or ordered stages, and each stage needs
// a quorum that enough distinct users can meet.
func (v *validator) validateApproval(c *Contract, path string) {
	a := &c.Approval
	v.oneOf(path+".self_approval", a.SelfApproval, "forbidden", "allowed")
	if v.pos.explicitZero(path + ".pending_ttl") {
		v.fail(path+".pending_ttl", "0s would let every request lapse at once; set how long a request waits for a decision, such as 30m, or omit it for 30m")
	}

	if len(a.Stages) == 0 {
		if a.Approvers.IsEmpty() {
			v.fail(path+".approvers", "missing; name who approves with users: [...] or groups: [...], or write stages")
			return
		}
		v.checkQuorum(c, path+".quorum", a.Quorum, a.Approvers)
		return
	}

	if !a.Approvers.IsEmpty() || v.pos.lines[path+".quorum"] != 0 {
		v.fail(path+".stages", "stages are set together with approvers or quorum at the approval level; move those into a stage, or remove stages")
	}
	names := v.newNameIndex("give each stage a different name")
	for i := range a.Stages {
		stage := &a.Stages[i]
		stagePath := indexPath(path+".stages", i)
		if v.required(stagePath+".name", stage.Name, "name the stage, such as name: vendor-manager") {
			names.add(stagePath+".name", stage.Name, strconv.Quote(stage.Name))
		}
		if stage.Approvers.IsEmpty() {
			v.fail(stagePath+".approvers", "missing; name who approves this stage with users: [...] or groups: [...]")
			continue
		}
		v.checkQuorum(c, stagePath+".quorum", stage.Quorum, stage.Approvers)
	}
}

// checkQuorum reports a quorum below 1, a quorum larger than the number of
// distinct users who can approve, and a quorum that a requester's own
// requests cannot reach because self-approval is forbidden and the
// requester is one of the approvers.
func (v *validator) checkQuorum(c *Contract, path string, quorum int, approvers Principals) {
	if quorum < 1 || v.pos.explicitZero(path) {
		v.fail(path, "%d is less than 1; set the number of distinct approvers needed, 1 or more", min(quorum, 0))
		return
	}

	users := v.cfg.Identities.Users
	names := approvers.Resolve(users)
	if len(names) == 0 {
		v.fail(path, "%d exceeds the 0 approvers who can approve: no user in identities.users is named in approvers.users (%s) or belongs to approvers.groups (%s); add such users or lower the quorum",
			quorum, listText(approvers.Users), listText(approvers.Groups))
		return
	}
	if quorum > len(names) {
		v.fail(path, "%d exceeds the %d approvers who can approve (%s); lower the quorum or add approvers",
			quorum, len(names), strings.Join(names, ", "))
		return
	}

	if c.Approval.SelfApproval != "forbidden" || quorum < len(names) {
		return
	}
	var stuck []string
	for _, requester := range c.Requesters.Resolve(users) {
		if slices.Contains(names, requester) {
			stuck = append(stuck, requester)
		}
	}
	if len(stuck) > 0 {
		v.fail(path, "%d cannot be met for requests by %s: self_approval is forbidden, so only %d of the %d approvers remain; lower the quorum, add approvers or remove %s from the requesters",
			quorum, strings.Join(stuck, ", "), len(names)-1, len(names), pluralThem(len(stuck)))
	}
}

func pluralThem(n int) string {
	if n == 1 {
		return "that user"
	}
	return fmt.Sprintf("those %d users", n)
}
