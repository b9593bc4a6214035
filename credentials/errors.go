package credentials

import "errors"

// ErrHostKeyMismatch is wrapped by the error of a host key check when the
// target presents a key that the configuration does not trust.
var ErrHostKeyMismatch = errors.New("credentials: host key mismatch")

// ErrNotJITGateRole is returned, wrapped, when Revoke is asked to drop a
// role whose name lacks RolePrefix, so an operator's own roles are never
// dropped.
var ErrNotJITGateRole = errors.New("credentials: not a jitgate role")

// ErrRoleNotGrantable is returned, wrapped, when Mint is asked for a role
// that the target does not list in its roles.
var ErrRoleNotGrantable = errors.New("credentials: role not grantable on this target")

// ErrIssuerClosed is returned by a PGIssuer after Close.
var ErrIssuerClosed = errors.New("credentials: postgres role issuer is closed")
