package postgres

import (
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/credentials"
)

// buildIssuers returns one issuer per Postgres target, taking overrides
// first. A service-role target gets an issuer that logs in as the service
// role; the front door only ever calls Connect on it.
func buildIssuers(cfg *configs.Config, overrides map[string]Issuer) (map[string]Issuer, error) {
	out := map[string]Issuer{}
	var errs []error
	for _, t := range cfg.Targets.Postgres {
		if is, ok := overrides[t.Name]; ok && is != nil {
			out[t.Name] = is
			continue
		}
		is, err := newIssuer(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[t.Name] = is
	}
	if err := errors.Join(errs...); err != nil {
		for _, is := range out {
			is.Close()
		}
		return nil, err
	}
	return out, nil
}

func newIssuer(t configs.PGTarget) (Issuer, error) {
	secretFile := t.AdminPasswordFile
	if t.ServiceRole != nil {
		secretFile = t.ServiceRole.PasswordFile
		// NewPGIssuer requires an admin user, so the service role is used
		// instead. Mint, Revoke and Sweep are never called for this target.
		t.AdminUser = t.ServiceRole.User
	}
	password := ""
	if secretFile != "" {
		var err error
		if password, err = credentials.ReadSecretFile(secretFile); err != nil {
			return nil, fmt.Errorf("postgres: target %s: %w", t.Name, err)
		}
	}
	is, err := credentials.NewPGIssuer(t, password)
	if err != nil {
		return nil, fmt.Errorf("postgres: target %s: %w", t.Name, err)
	}
	return is, nil
}

// serviceRole returns the fixed upstream login of a target, or nil when
// the target uses temporary roles.
func serviceRole(t *configs.PGTarget) (*credentials.PGRole, error) {
	if t.ServiceRole == nil {
		return nil, nil
	}
	password, err := credentials.ReadSecretFile(t.ServiceRole.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("reading the service role password of target %s: %w", t.Name, err)
	}
	return &credentials.PGRole{Name: t.ServiceRole.User, Password: password}, nil
}
