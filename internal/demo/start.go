package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/server"
)

// prepareTimeout bounds the SQL that loads the sample data.
const prepareTimeout = 30 * time.Second

// preparePostgres loads the sample data and creates jitgate's admin role,
// and returns that role's password.
func preparePostgres(ctx context.Context, pg *localtarget.Postgres) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, prepareTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.DSN(pg.Database))
	if err != nil {
		return "", fmt.Errorf("demo: connecting to the demo database: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sampleSQL); err != nil {
		return "", fmt.Errorf("demo: loading the sample data: %w", err)
	}
	password := identity.NewToken()
	quoted := "'" + password + "'" // NewToken uses only base64url characters
	if _, err := conn.Exec(ctx, fmt.Sprintf(adminSQL, quoted)); err != nil {
		return "", fmt.Errorf("demo: creating the jitgate_admin role: %w", err)
	}
	// Membership with ADMIN OPTION lets jitgate_admin grant the two roles;
	// pg_signal_backend lets it end a temporary role's sessions at the
	// window end.
	for _, stmt := range []string{
		"GRANT readonly, readwrite TO jitgate_admin WITH ADMIN OPTION",
		"GRANT pg_signal_backend TO jitgate_admin",
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("demo: %s: %w", stmt, err)
		}
	}
	return password, nil
}

// errStopped reports a server that ended before it was ready, without an
// error of its own (the demo was interrupted while starting).
var errStopped = errors.New("interrupted")

// running is the jitgate server the demo started.
type running struct {
	done chan error
}

func (r *running) wait() error { return <-r.done }

// startServer loads the written config and serves it until ctx ends.
func startServer(ctx context.Context, cfgPath string, log *slog.Logger) (*running, error) {
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("demo: the generated config does not load: %w", err)
	}
	srv, err := server.New(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("demo: starting jitgate: %w", err)
	}
	if err := srv.Listen(); err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	r := &running{done: make(chan error, 1)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	// The walkthrough is printed only once every front door listens, so
	// the first command typed cannot meet a refused connection.
	select {
	case <-srv.Ready():
		go func() { r.done <- <-served }()
		return r, nil
	case err := <-served:
		if err == nil {
			err = errStopped
		}
		return nil, fmt.Errorf("demo: jitgate stopped before it was ready: %w", err)
	}
}
