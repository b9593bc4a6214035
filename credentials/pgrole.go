package credentials

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// RolePrefix starts the name of every role jitgate creates. Revoke and
// Sweep touch only names that match TemporaryRoleName, never an operator's
// role that merely shares the prefix, such as an admin named jitgate_admin.
const RolePrefix = "jitgate_"

// TemporaryRoleName matches the names Mint gives: the prefix, "g", the
// grant id, "_" and six characters of roleSuffixAlphabet.
var TemporaryRoleName = regexp.MustCompile(`^jitgate_g[0-9]+_[a-z0-9]{6}$`)

// Sizes of the random parts of a role.
const (
	roleSuffixLen     = 6
	rolePasswordBytes = 32
)

// roleSuffixAlphabet is the alphabet of a role name's random suffix. It is
// lowercase so the name needs no quoting in psql.
const roleSuffixAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// MintRole describes the temporary role for one grant.
type MintRole struct {
	GrantID int64
	// Role is the granted existing role; the new role becomes its member
	// and inherits its privileges. It must be listed in the target's roles.
	Role string
	// ValidUntil is the end of the grant's window.
	ValidUntil time.Time
	// ConnLimit caps concurrent connections of the role; 0 means no limit.
	ConnLimit int
}

// PGRole is a temporary login role.
type PGRole struct {
	Name     string
	Password string
	// ValidUntil is the role's VALID UNTIL, the window end truncated to
	// the microsecond precision of PostgreSQL timestamps.
	ValidUntil time.Time
}

// Mint creates a login role named jitgate_g<grant>_<random> that is a
// member of req.Role with INHERIT, has a random password, and expires at
// req.ValidUntil. One role serves every connection of a grant.
//
// The password is stored as a SCRAM-SHA-256 secret computed here, so the
// statement, which may reach the server log, contains no password. Each
// login costs the client one PBKDF2 derivation in pgconn, which cannot
// take a derived key, so the secret uses one iteration (see
// scramIterations).
func (p *PGIssuer) Mint(ctx context.Context, req MintRole) (*PGRole, error) {
	if err := p.checkMintRole(req); err != nil {
		return nil, err
	}
	role, err := newPGRole(req)
	if err != nil {
		return nil, err
	}
	statement, err := createRoleStatement(role, req)
	if err != nil {
		return nil, err
	}

	err = p.withAdmin(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, statement, pgx.QueryExecModeSimpleProtocol)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("credentials: create role %s in role %s on Postgres target %s: %w", role.Name, req.Role, p.target.Name, err)
	}
	return role, nil
}

func (p *PGIssuer) checkMintRole(req MintRole) error {
	if req.GrantID <= 0 {
		return fmt.Errorf("credentials: grant id %d is invalid: it must be positive", req.GrantID)
	}
	if !slices.Contains(p.target.Roles, req.Role) {
		return fmt.Errorf("%w: role %q is not in the roles of Postgres target %s: add it there or grant a listed role", ErrRoleNotGrantable, req.Role, p.target.Name)
	}
	if req.ValidUntil.IsZero() {
		return errors.New("credentials: role request has no ValidUntil: pass the window end")
	}
	if req.ConnLimit < 0 {
		return fmt.Errorf("credentials: connection limit %d is invalid: use 0 for no limit or a positive number", req.ConnLimit)
	}
	return nil
}

func newPGRole(req MintRole) (*PGRole, error) {
	suffix, err := randomString(roleSuffixLen, roleSuffixAlphabet)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, rolePasswordBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("credentials: generate role password: %w", err)
	}
	return &PGRole{
		Name:       RolePrefix + "g" + strconv.FormatInt(req.GrantID, 10) + "_" + suffix,
		Password:   base64.RawURLEncoding.EncodeToString(secret),
		ValidUntil: req.ValidUntil.Truncate(time.Microsecond),
	}, nil
}

// createRoleStatement returns the CREATE ROLE statement for role. Every
// attribute that could widen access is spelled out as off, so server
// defaults cannot add one.
func createRoleStatement(role *PGRole, req MintRole) (string, error) {
	secret, err := scramSecret(role.Password)
	if err != nil {
		return "", err
	}
	password, err := quoteLiteral(secret)
	if err != nil {
		return "", err
	}
	validUntil, err := quoteLiteral(role.ValidUntil.UTC().Format("2006-01-02 15:04:05.999999-07:00"))
	if err != nil {
		return "", err
	}
	connLimit := req.ConnLimit
	if connLimit == 0 {
		connLimit = -1 // PostgreSQL's "no limit"
	}

	var sql strings.Builder
	sql.WriteString("CREATE ROLE " + quoteIdentifier(role.Name))
	sql.WriteString(" WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
	sql.WriteString(" CONNECTION LIMIT " + strconv.Itoa(connLimit))
	sql.WriteString(" PASSWORD " + password)
	sql.WriteString(" VALID UNTIL " + validUntil)
	sql.WriteString(" IN ROLE " + quoteIdentifier(req.Role))
	return sql.String(), nil
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) (string, error) {
	out := make([]byte, n)
	for i := range out {
		index, err := randomIndex(len(alphabet))
		if err != nil {
			return "", fmt.Errorf("credentials: generate role name: %w", err)
		}
		out[i] = alphabet[index]
	}
	return string(out), nil
}

// randomIndex returns a uniform random number in [0, n) for n <= 256,
// rejecting bytes above the largest multiple of n to avoid modulo bias.
func randomIndex(n int) (int, error) {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}
