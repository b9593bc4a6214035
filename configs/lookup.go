package configs

import (
	"slices"
)

// Contract returns the contract with the given id, or nil.
func (c *Config) Contract(id string) *Contract {
	for i := range c.Contracts {
		if c.Contracts[i].ID == id {
			return &c.Contracts[i]
		}
	}
	return nil
}

// SSHTarget returns the SSH target with the given name, or nil.
func (c *Config) SSHTarget(name string) *SSHTarget {
	for i := range c.Targets.SSH {
		if c.Targets.SSH[i].Name == name {
			return &c.Targets.SSH[i]
		}
	}
	return nil
}

// PGTarget returns the Postgres target with the given name, or nil.
func (c *Config) PGTarget(name string) *PGTarget {
	for i := range c.Targets.Postgres {
		if c.Targets.Postgres[i].Name == name {
			return &c.Targets.Postgres[i]
		}
	}
	return nil
}

// User returns the static user with the given name, or nil.
func (c *Config) User(name string) *User {
	for i := range c.Identities.Users {
		if c.Identities.Users[i].Name == name {
			return &c.Identities.Users[i]
		}
	}
	return nil
}

// Resolve returns the sorted, distinct names of the users that p names
// directly or through one of their groups. Names in p.Users that match no
// user are left out.
func (p *Principals) Resolve(users []User) []string {
	var names []string
	for _, u := range users {
		if p.Contains(u.Name, u.Groups) {
			names = append(names, u.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Contains reports whether p includes the person with this user name and
// these group memberships, either by name or through a shared group.
func (p *Principals) Contains(userName string, groups []string) bool {
	if slices.Contains(p.Users, userName) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(p.Groups, g) {
			return true
		}
	}
	return false
}

// IsEmpty reports whether p lists no users and no groups.
func (p *Principals) IsEmpty() bool { return len(p.Users) == 0 && len(p.Groups) == 0 }

// singleStageName names the stage that Stages builds from Approvers and
// Quorum when a contract has no explicit stages.
const singleStageName = "approval"

// Stages returns the ordered approval stages. A contract without explicit
// stages has one stage, named "approval", made of Approvers and Quorum.
func (c *Contract) Stages() []Stage {
	if len(c.Approval.Stages) > 0 {
		return c.Approval.Stages
	}
	return []Stage{{Name: singleStageName, Approvers: c.Approval.Approvers, Quorum: c.Approval.Quorum}}
}

// CoversSSH reports whether the contract's scope allows login on the SSH
// target named target.
func (c *Contract) CoversSSH(target, login string) bool {
	for _, entry := range c.Scope {
		if entry.Target == target && slices.Contains(entry.Logins, login) {
			return true
		}
	}
	return false
}

// CoversPG reports whether the contract's scope allows role on the
// Postgres target named target.
func (c *Contract) CoversPG(target, role string) bool {
	for _, entry := range c.Scope {
		if entry.Target == target && slices.Contains(entry.Roles, role) {
			return true
		}
	}
	return false
}

// MatchTicket reports whether ticket matches TicketPattern in full. An
// empty pattern matches any ticket; a pattern that does not compile
// matches none, which Load never lets through.
func (r *RequestRules) MatchTicket(ticket string) bool {
	if r.TicketPattern == "" {
		return true
	}
	pattern, err := compileFull(r.TicketPattern)
	return err == nil && pattern.MatchString(ticket)
}
