package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// terminateTimeoutMillis is how long pg_terminate_backend waits for each
// backend of a revoked role to exit, in milliseconds.
const terminateTimeoutMillis = 5000

// sqlstateUndefinedObject is the SQLSTATE of a missing role.
const sqlstateUndefinedObject = "42704"

// Revoke ends every session of the role name and drops it:
//
//  1. ALTER ROLE ... NOLOGIN, so no new session starts meanwhile.
//  2. pg_terminate_backend for each of its backends in pg_stat_activity,
//     waiting up to 5 s for each to exit.
//  3. In one transaction: GRANT name TO CURRENT_USER (a CREATEROLE admin
//     that is not superuser needs membership for the next steps), REASSIGN
//     OWNED BY name TO the role it was granted, DROP OWNED BY name, DROP
//     ROLE IF EXISTS name.
//
// Objects the temporary role created go to the granted role, not to the
// admin, so a SECURITY DEFINER function left behind never runs with the
// admin's privileges. A role that does not exist counts as revoked. Only
// names that match TemporaryRoleName are accepted, and never the admin.
//
// NOTE: REASSIGN OWNED and DROP OWNED act only in the database the admin
// connection uses, the target's database. A role that created objects in
// another database of the cluster cannot be dropped, and Revoke returns
// the error after its sessions are ended.
//
// pg_terminate_backend with a timeout needs PostgreSQL 14 or later.
//
// An admin that is not superuser needs CREATEROLE, membership WITH ADMIN
// OPTION in the grantable roles, and pg_signal_backend, as the tests set
// up against PostgreSQL 15.
func (p *PGIssuer) Revoke(ctx context.Context, name string) error {
	if !TemporaryRoleName.MatchString(name) || name == p.target.AdminUser {
		return fmt.Errorf("%w: role %q on Postgres target %s was not dropped, because jitgate drops only the temporary roles it names like jitgate_g42_ab12cd", ErrNotJITGateRole, name, p.target.Name)
	}
	err := p.withAdmin(ctx, func(conn *pgx.Conn) error {
		return p.revoke(ctx, conn, name)
	})
	if err != nil {
		return fmt.Errorf("credentials: revoke role %s on Postgres target %s: %w", name, p.target.Name, err)
	}
	return nil
}

func (p *PGIssuer) revoke(ctx context.Context, conn *pgx.Conn, name string) error {
	role := quoteIdentifier(name)
	_, err := conn.Exec(ctx, "ALTER ROLE "+role+" NOLOGIN")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == sqlstateUndefinedObject {
		return nil // already dropped
	}
	if err != nil {
		return fmt.Errorf("disable login: %w", err)
	}

	if err := terminateBackends(ctx, conn, name); err != nil {
		return err
	}

	heir, err := grantedRole(ctx, conn, name)
	if err != nil {
		return err
	}
	if heir == "" {
		heir = p.target.AdminUser
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		statements := []string{
			"GRANT " + role + " TO CURRENT_USER",
			"REASSIGN OWNED BY " + role + " TO " + quoteIdentifier(heir),
			"DROP OWNED BY " + role,
			"DROP ROLE IF EXISTS " + role,
		}
		for _, statement := range statements {
			if _, err := tx.Exec(ctx, statement); err != nil {
				return fmt.Errorf("%s: %w", statement, err)
			}
		}
		return nil
	})
}

// grantedRole returns the role the temporary role name is a member of,
// or "" when it has none.
func grantedRole(ctx context.Context, conn *pgx.Conn, name string) (string, error) {
	var granted string
	err := conn.QueryRow(ctx, `SELECT g.rolname::text FROM pg_auth_members m
		JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
		WHERE r.rolname = $1 ORDER BY g.rolname LIMIT 1`, name).Scan(&granted)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up the granted role: %w", err)
	}
	return granted, nil
}

// terminateBackends ends every session of the role name and waits for
// each to exit.
func terminateBackends(ctx context.Context, conn *pgx.Conn, name string) error {
	rows, err := conn.Query(ctx,
		"SELECT pid, pg_terminate_backend(pid, $2) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
		name, terminateTimeoutMillis)
	if err != nil {
		return fmt.Errorf("terminate sessions: %w", err)
	}
	type result struct {
		pid        int32
		terminated bool
	}
	results, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (result, error) {
		var r result
		err := row.Scan(&r.pid, &r.terminated)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("terminate sessions: %w", err)
	}

	var unconfirmed []int32
	for _, r := range results {
		if !r.terminated {
			unconfirmed = append(unconfirmed, r.pid)
		}
	}
	if len(unconfirmed) == 0 {
		return nil
	}
	stuck, err := liveBackends(ctx, conn, name, unconfirmed)
	if err != nil {
		return fmt.Errorf("terminate sessions: %w", err)
	}
	if len(stuck) > 0 {
		return fmt.Errorf("sessions with pid %s did not exit within %d ms of pg_terminate_backend", strings.Join(stuck, ", "), terminateTimeoutMillis)
	}
	return nil
}

// liveBackends returns those of pids that still run as sessions of the
// role name. pg_terminate_backend also returns false for a session that
// exited on its own after pg_stat_activity listed it, and such a session
// is not stuck. The query is a statement of its own, so it reads a fresh
// pg_stat_activity rather than the listing statement's snapshot.
func liveBackends(ctx context.Context, conn *pgx.Conn, name string, pids []int32) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND pid = ANY($2)", name, pids)
	if err != nil {
		return nil, err
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pid := range live {
		out = append(out, fmt.Sprint(pid))
	}
	return out, nil
}

// Sweep lists the roles on the target whose name starts with RolePrefix
// and revokes each one that keep rejects. The caller decides with the
// credential records of its store, so roles left behind by a crash are
// dropped. It returns the names it dropped, and joins the errors of the
// roles it could not drop.
func (p *PGIssuer) Sweep(ctx context.Context, keep func(name string) bool) ([]string, error) {
	if keep == nil {
		return nil, errors.New("credentials: Sweep needs a keep function: pass one that returns true for live credentials")
	}
	names, err := p.listRoles(ctx)
	if err != nil {
		return nil, err
	}

	var dropped []string
	var errs []error
	for _, name := range names {
		if keep(name) || !TemporaryRoleName.MatchString(name) || name == p.target.AdminUser {
			continue
		}
		if err := p.Revoke(ctx, name); err != nil {
			errs = append(errs, err)
			continue
		}
		dropped = append(dropped, name)
	}
	return dropped, errors.Join(errs...)
}

// listRoles returns the names of the roles that start with RolePrefix.
func (p *PGIssuer) listRoles(ctx context.Context) ([]string, error) {
	// In LIKE, a backslash makes the next "_" literal instead of a
	// wildcard for one character.
	pattern := strings.ReplaceAll(RolePrefix, "_", `\_`) + "%"
	var names []string
	err := p.withAdmin(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT rolname::text FROM pg_roles WHERE rolname LIKE $1 ORDER BY rolname", pattern)
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("credentials: list jitgate roles on Postgres target %s: %w", p.target.Name, err)
	}
	return names, nil
}
