package configs

import (
	"strconv"
)

// validateTargets checks SSH and Postgres targets. Names are unique across
// both kinds, because a contract's scope names a target without its kind.
func (v *validator) validateTargets() {
	names := v.newNameIndex("give each target, SSH or Postgres, a different name")
	for i := range v.cfg.Targets.SSH {
		t := &v.cfg.Targets.SSH[i]
		path := indexPath("targets.ssh", i)
		v.checkName(path+".name", t.Name, "web-1")
		names.add(path+".name", t.Name, strconv.Quote(t.Name))
		v.validateSSHTarget(t, path)
	}
	for i := range v.cfg.Targets.Postgres {
		t := &v.cfg.Targets.Postgres[i]
		path := indexPath("targets.postgres", i)
		v.checkName(path+".name", t.Name, "orders")
		names.add(path+".name", t.Name, strconv.Quote(t.Name))
		v.validatePGTarget(t, path)
	}
}

func (v *validator) validateSSHTarget(t *SSHTarget, path string) {
	if v.required(path+".address", t.Address, "add the sshd's host:port, such as web-1.internal.example.com:22") {
		v.checkAddress(path+".address", t.Address, "web-1.internal.example.com:22")
	}

	if len(t.HostKeys) == 0 && t.KnownHostsFile == "" && t.HostCA == "" {
		v.fail(path, "target %q has no way to verify its host key; add host_keys (ssh-keyscan prints them), known_hosts_file or host_ca", t.Name)
	}
	for i, line := range t.HostKeys {
		v.checkAuthorizedKey(indexPath(path+".host_keys", i), line)
	}
	if t.HostCA != "" {
		v.checkAuthorizedKey(path+".host_ca", t.HostCA)
	}

	v.checkGrantables(path+".logins", t.Logins, "logins", "deploy")
}

func (v *validator) validatePGTarget(t *PGTarget, path string) {
	if v.required(path+".address", t.Address, "add the server's host:port, such as orders.db.example.com:5432") {
		v.checkAddress(path+".address", t.Address, "orders.db.example.com:5432")
	}
	v.oneOf(path+".tls", t.TLS, "disable", "require", "verify-full")

	if sr := t.ServiceRole; sr != nil {
		v.required(path+".service_role.user", sr.User, "add the fixed role every session logs in as, such as user: support")
		v.required(path+".service_role.password_file", sr.PasswordFile, "add the file that contains the role's password")
	} else {
		v.required(path+".admin_user", t.AdminUser, "add the role that creates temporary roles (it needs CREATEROLE), such as admin_user: jitgate_admin, or set service_role")
	}

	v.checkGrantables(path+".roles", t.Roles, "roles", "readonly")
}

// checkGrantables checks a target's list of logins or roles: at least one,
// none empty, none repeated.
func (v *validator) checkGrantables(path string, items []string, itemKind, example string) {
	if len(items) == 0 {
		v.fail(path, "missing; list the %s that contracts may grant on this target, such as [%s]", itemKind, example)
		return
	}
	seen := v.newNameIndex("remove the repeated entry")
	for i, item := range items {
		itemPath := indexPath(path, i)
		if item == "" {
			v.fail(itemPath, "empty; write a name such as %s", example)
			continue
		}
		seen.add(itemPath, item, strconv.Quote(item))
	}
}
