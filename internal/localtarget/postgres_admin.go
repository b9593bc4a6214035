package localtarget

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

func (p *Postgres) createDatabase(ctx context.Context, conn *pgx.Conn) error {
	if p.Database == "postgres" {
		return nil // initdb created it
	}
	sql := "CREATE DATABASE " + pgx.Identifier{p.Database}.Sanitize() + " OWNER " + pgx.Identifier{p.AdminUser}.Sanitize()
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s on %s: %w", p.Database, p.addr(), err)
	}
	return nil
}

// CreateDatabase creates the database name, owned by the admin user.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	return p.execAdmin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+pgx.Identifier{p.AdminUser}.Sanitize())
}

// DropDatabase drops the database name and ends its open sessions first.
// A missing database is not an error.
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	return p.execAdmin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func (p *Postgres) execAdmin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", p.addr(), p.AdminUser, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("run %q on %s: %w", sql, p.addr(), err)
	}
	return nil
}
