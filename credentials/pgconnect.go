package credentials

import (
	"context"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5/pgconn"
)

// reservedStartupParams are startup parameters that Connect sets itself
// or that would change what the connection is.
var reservedStartupParams = []string{"user", "database", "replication"}

// Connect opens an upstream connection to database (the target's database
// when empty) as role, authenticating with SCRAM-SHA-256 only, over TLS
// as the target configures. params are further startup parameters, such
// as application_name, passed through from the client; they must not
// include user, database or replication.
//
// The connection is ready for the relay to take over with Hijack.
func (p *PGIssuer) Connect(ctx context.Context, role *PGRole, database string, params map[string]string) (*pgconn.PgConn, error) {
	for _, key := range reservedStartupParams {
		if _, ok := params[key]; ok {
			return nil, fmt.Errorf("credentials: startup parameter %q cannot be passed through to Postgres target %s: remove it from params", key, p.target.Name)
		}
	}
	if database == "" {
		database = p.database
	}

	config, err := pgconn.ParseConfig(baseConnString)
	if err != nil {
		return nil, fmt.Errorf("credentials: prepare connection to Postgres target %s: %w", p.target.Name, err)
	}
	p.connConfig(config, role.Name, role.Password, database)
	maps.Copy(config.RuntimeParams, params)
	// The connection fails when the server requests a clear-text or MD5
	// password, so the password never leaves jitgate.
	config.RequireAuth = "scram-sha-256"

	conn, err := pgconn.ConnectConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("credentials: connect to Postgres target %s (%s) database %s as role %s: %w", p.target.Name, p.target.Address, database, role.Name, err)
	}
	return conn, nil
}
