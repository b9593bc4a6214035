package configs

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func (v *validator) validateContracts() {
	ids := v.newNameIndex("give each contract a different id")
	for i := range v.cfg.Contracts {
		c := &v.cfg.Contracts[i]
		path := indexPath("contracts", i)
		v.checkName(path+".id", c.ID, "acme-support")
		ids.add(path+".id", c.ID, strconv.Quote(c.ID))
		v.validateContract(c, path)
	}
}

func (v *validator) validateContract(c *Contract, path string) {
	if c.Version < 0 {
		v.fail(path+".version", "%d is negative; number versions from 1 and raise the number with each change", c.Version)
	}
	v.required(path+".party", c.Party, "name the other side of the agreement, such as party: Acme Support Ltd")
	if v.required(path+".kind", c.Kind, "add kind: vendor, partner or internal") {
		v.oneOf(path+".kind", c.Kind, "vendor", "partner", "internal")
	}
	v.validateDates(c, path)

	if c.Requesters.IsEmpty() {
		v.fail(path+".requesters", "missing; name who may request access with users: [...] or groups: [...]")
	}
	v.validateScope(c, path+".scope")
	triggers := v.newNameIndex("remove the repeated trigger")
	for i, trigger := range c.Triggers {
		triggerPath := indexPath(path+".triggers", i)
		v.required(triggerPath, trigger, "write a reason for access such as incident")
		triggers.add(triggerPath, trigger, strconv.Quote(trigger))
	}
	v.validateRequestRules(&c.Request, path+".request")
	v.validateApproval(c, path+".approval")
	v.validateWindow(&c.Window, path+".window")
	v.validateBreakGlass(c, path+".break_glass")
	v.validateRecording(&c.Recording, path+".recording")
	v.validateCompliance(c, path)
}

func (v *validator) validateDates(c *Contract, path string) {
	hasEffective := !c.Effective.IsZero()
	hasExpires := !c.Expires.IsZero()
	if !hasEffective {
		v.fail(path+".effective", "missing; add the first day of the agreement, such as effective: 2026-01-01")
	}
	if !hasExpires {
		v.fail(path+".expires", "missing; add the last day of the agreement, such as expires: 2026-12-31")
	}
	if hasEffective && hasExpires && c.Expires.Before(c.Effective.Time) {
		v.fail(path+".expires", "%s is before effective %s; swap the dates or correct one of them", c.Expires, c.Effective)
	}
}

// validateScope checks each scope entry against the target it names. SSH
// targets take logins, Postgres targets take roles, and the target must
// list each login or role.
func (v *validator) validateScope(c *Contract, path string) {
	if len(c.Scope) == 0 {
		v.fail(path, "missing; list at least one target, such as - {target: web-1, logins: [deploy]}")
		return
	}
	targets := v.newNameIndex("merge the two entries for that target into one")
	for i := range c.Scope {
		entry := &c.Scope[i]
		entryPath := indexPath(path, i)
		if !v.required(entryPath+".target", entry.Target, "name a target from targets.ssh or targets.postgres") {
			continue
		}
		targets.add(entryPath+".target", entry.Target, strconv.Quote(entry.Target))

		switch sshTarget, pgTarget := v.cfg.SSHTarget(entry.Target), v.cfg.PGTarget(entry.Target); {
		case sshTarget != nil:
			v.checkScopeItems(entryPath, entry, "logins", entry.Logins, sshTarget.Logins, "roles", entry.Roles, "an SSH")
		case pgTarget != nil:
			v.checkScopeItems(entryPath, entry, "roles", entry.Roles, pgTarget.Roles, "logins", entry.Logins, "a Postgres")
		default:
			v.fail(entryPath+".target", "%s", unknownTargetMessage(entry.Target, v.targetNames()))
		}
	}
}

// checkScopeItems checks one scope entry. It must list items of the kind
// the target takes (want), each one known to the target, and no items of
// the other kind.
func (v *validator) checkScopeItems(path string, entry *ScopeEntry, want string, items, allowed []string, other string, otherItems []string, kind string) {
	if len(otherItems) > 0 {
		v.fail(path+"."+other, "%s is %s target, which takes %s, not %s; list %s instead", entry.Target, kind, want, other, want)
	}
	if len(items) == 0 {
		v.fail(path+"."+want, "missing; list the %s of %s to grant, from %s", want, entry.Target, listText(allowed))
		return
	}
	for i, item := range items {
		if !slices.Contains(allowed, item) {
			v.fail(indexPath(path+"."+want, i), "%q is not one of the %s that target %s lists (%s); use one of those, or add it to the target", item, want, entry.Target, listText(allowed))
		}
	}
}

func (v *validator) targetNames() []string {
	var names []string
	for _, t := range v.cfg.Targets.SSH {
		names = append(names, t.Name)
	}
	for _, t := range v.cfg.Targets.Postgres {
		names = append(names, t.Name)
	}
	return names
}

func unknownTargetMessage(name string, known []string) string {
	msg := fmt.Sprintf("target %q is not defined in targets.ssh or targets.postgres; ", name)
	if guess := closest(name, known); guess != "" {
		return msg + fmt.Sprintf("did you mean %q?", guess)
	}
	if len(known) == 0 {
		return msg + "define it there"
	}
	return msg + "define it there or use one of " + strings.Join(known, ", ")
}

// listText formats a list for a message: "a, b", or "none" when empty.
func listText(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

func (v *validator) validateRequestRules(r *RequestRules, path string) {
	if r.ReasonMinLength < 0 {
		v.fail(path+".reason_min_length", "%d is negative; use 0 for no minimum or a positive length", r.ReasonMinLength)
	}
	if r.TicketPattern != "" {
		if _, err := compileFull(r.TicketPattern); err != nil {
			v.fail(path+".ticket_pattern", "%q is not a valid Go regular expression (%v); fix it, for example ^INC-[0-9]+$", r.TicketPattern, err)
		}
	}
}

func (v *validator) validateRecording(r *Recording, path string) {
	v.oneOf(path+".ssh", r.SSH, "off", "output", "output+input")
	v.oneOf(path+".postgres", r.Postgres, "off", "queries")
	v.oneOf(path+".parameters", r.Parameters, "off", "on", "redacted")
	for i, pattern := range r.Redact {
		if _, err := regexp.Compile(pattern); err != nil {
			v.fail(indexPath(path+".redact", i), "%q is not a valid Go regular expression (%v); fix it, for example password=\\S+", pattern, err)
		}
	}
}
