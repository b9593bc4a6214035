// Package credentials mints the short-lived credentials jitgate uses
// upstream, and checks the identity of the upstream SSH servers.
//
// For SSH it is a user certificate authority (SSHCA). Every connection
// gets a fresh ed25519 key and a certificate for it. The certificate's
// principal is the granted login, its validity ends with the grant's
// window, and it permits only the features the contract allows. The certificate format
// and its extensions are those of OpenSSH's PROTOCOL.certkeys. A
// certificate is valid while valid-after <= now < valid-before, so sshd
// rejects it by itself once the window ends, even if jitgate is gone.
//
// For PostgreSQL it is a role issuer (PGIssuer): each grant gets a
// temporary login role that is a member of the granted role, carries
// VALID UNTIL the window end, and is dropped (with its sessions
// terminated) at the end or on revocation. Sweep drops the roles left
// behind by a crash. The role's password is stored upstream as a
// SCRAM-SHA-256 secret computed here, so the password itself never reaches
// the server. See the PostgreSQL documentation of CREATE ROLE and of
// password authentication for the secret format.
//
// The package holds no connections to clients and makes no policy
// decisions: callers pass in what was granted.
package credentials
