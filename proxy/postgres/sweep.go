package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

// Sweep drops the temporary roles that no connection of this server uses:
// on every target with temporary roles, each role named with the
// credentials prefix, and each role whose store record is still live.
// Dropped roles get their records marked revoked. Run it at start, before
// Serve, to clean up after a crash.
//
// NOTE: Sweep assumes this server is the only one minting roles on its
// targets. With several replicas it would drop the roles of the others.
func (s *Server) Sweep(ctx context.Context) error {
	var errs []error
	for _, t := range s.cfg.Targets.Postgres {
		if t.ServiceRole != nil {
			continue
		}
		if err := s.sweepTarget(ctx, t.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) sweepTarget(ctx context.Context, target string) error {
	issuer := s.issuers[target]
	dropped, sweepErr := issuer.Sweep(ctx, s.roles.holds)
	for _, name := range dropped {
		s.log.Info("leftover temporary role dropped", "target", target, "role", name)
	}

	// Records of roles that are gone, whether dropped now or earlier, are
	// marked revoked. Revoke of a missing role succeeds, so it confirms
	// that a role no longer exists.
	live, err := s.opts.Store.Credentials(ctx, store.CredentialFilter{
		Target: target, States: []store.CredentialState{store.CredentialLive},
	})
	if err != nil {
		return errors.Join(sweepErr, fmt.Errorf("postgres: listing live credentials of target %s: %w", target, err))
	}
	errs := []error{sweepErr}
	for _, c := range live {
		if c.Kind != credentialKind || s.roles.holds(c.Name) {
			continue
		}
		if err := issuer.Revoke(ctx, c.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.roles.recordRevoked(ctx, c.GrantID, target, c.Name, c.ID, "sweep"); err != nil {
			errs = append(errs, fmt.Errorf("postgres: marking role %s of target %s revoked: %w", c.Name, target, err))
		}
	}
	return errors.Join(errs...)
}
