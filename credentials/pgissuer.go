package credentials

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/configs"
)

// TLS modes of a Postgres target, as libpq's sslmode names them.
const (
	TLSDisable    = "disable"
	TLSRequire    = "require"
	TLSVerifyFull = "verify-full"
)

// pgConnectTimeout bounds one connection attempt to a target, admin or
// upstream, when the caller's context has no earlier deadline.
const pgConnectTimeout = 10 * time.Second

// pgCloseTimeout bounds the Terminate message sent when a connection closes.
const pgCloseTimeout = 5 * time.Second

// adminApplicationName marks the admin connection in pg_stat_activity.
const adminApplicationName = "jitgate-role-issuer"

// PGIssuer creates and drops temporary login roles on one PostgreSQL
// target. It keeps one admin connection and reuses it for every call,
// serializing the calls, because role changes are rare next to logins.
// Its methods are safe for concurrent use.
type PGIssuer struct {
	target        configs.PGTarget
	host          string
	port          uint16
	database      string
	adminPassword string
	// tlsConfig is nil when the target's TLS mode is disable.
	tlsConfig *tls.Config

	// mu guards admin and closed, and serializes the use of admin.
	mu     sync.Mutex
	admin  *pgx.Conn
	closed bool
}

// NewPGIssuer returns an issuer for target that logs in as
// target.AdminUser with adminPassword (see ReadSecretFile). It checks the
// settings and reads the CA file but does not connect yet.
//
// TLS follows target.TLS: disable sends everything in clear text; require
// (the default) encrypts without checking the server certificate, as
// libpq's sslmode=require does without a root certificate; verify-full
// checks the certificate against target.CAFile (the system roots when
// empty) and the host name in target.Address.
func NewPGIssuer(target configs.PGTarget, adminPassword string) (*PGIssuer, error) {
	host, portText, err := net.SplitHostPort(target.Address)
	if err != nil {
		return nil, fmt.Errorf("credentials: Postgres target %s address %q is not host:port: %w", target.Name, target.Address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("credentials: Postgres target %s address %q has an invalid port: use 1 to 65535", target.Name, target.Address)
	}
	if target.AdminUser == "" {
		return nil, fmt.Errorf("credentials: Postgres target %s has no admin_user: name a role with CREATEROLE", target.Name)
	}
	tlsConfig, err := targetTLSConfig(target, host)
	if err != nil {
		return nil, err
	}

	database := target.Database
	if database == "" {
		database = target.Name
	}
	return &PGIssuer{
		target:        target,
		host:          host,
		port:          uint16(port),
		database:      database,
		adminPassword: adminPassword,
		tlsConfig:     tlsConfig,
	}, nil
}

func targetTLSConfig(target configs.PGTarget, host string) (*tls.Config, error) {
	switch target.TLS {
	case TLSDisable:
		return nil, nil
	case "", TLSRequire:
		// Encryption without authentication of the server, as requested.
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil
	case TLSVerifyFull:
		roots, err := targetRoots(target)
		if err != nil {
			return nil, err
		}
		return &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}, nil
	default:
		return nil, fmt.Errorf("credentials: Postgres target %s tls %q is invalid: use %s, %s or %s", target.Name, target.TLS, TLSDisable, TLSRequire, TLSVerifyFull)
	}
}

// targetRoots returns the certificates in target.CAFile, or nil (the
// system roots) when it is empty.
func targetRoots(target configs.PGTarget) (*x509.CertPool, error) {
	if target.CAFile == "" {
		return nil, nil
	}
	pemData, err := os.ReadFile(target.CAFile)
	if err != nil {
		return nil, fmt.Errorf("credentials: Postgres target %s ca_file: %w", target.Name, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("credentials: Postgres target %s ca_file %s contains no PEM certificate: point it at the PEM file of the CA that signed the server certificate", target.Name, target.CAFile)
	}
	return roots, nil
}

// baseConnString is parsed into every connection config before connConfig
// fills it. ParseConfig merges PG* environment variables under these
// settings, and it reads the files that PGSSLROOTCERT, PGSSLCERT and
// PGSSLKEY name even with sslmode=disable, so the empty values keep it from
// failing on a TLS setup that connConfig replaces anyway. The placeholder
// user and host keep it from looking up the OS user.
//
// NOTE: PGSERVICE still applies here: a service that cannot be read fails
// every connection, and its settings are overridden by connConfig.
const baseConnString = "host=localhost port=5432 user=jitgate sslmode=disable sslrootcert='' sslcert='' sslkey='' sslcertmode=disable sslnegotiation=postgres target_session_attrs=any"

// connConfig fills config, made by ParseConfig(baseConnString), with the
// target's address and TLS settings and the given login. It replaces every
// field that ParseConfig may have taken from PG* environment variables, so
// the process environment cannot redirect or weaken the connection.
func (p *PGIssuer) connConfig(config *pgconn.Config, user, password, database string) {
	config.Host = p.host
	config.Port = p.port
	config.Database = database
	config.User = user
	config.Password = password
	config.TLSConfig = p.tlsConfig
	config.Fallbacks = nil // no retry without TLS, as sslmode=prefer would do
	config.ConnectTimeout = pgConnectTimeout
	config.RuntimeParams = map[string]string{}
	config.ValidateConnect = nil
	config.KerberosSrvName = ""
	config.KerberosSpn = ""
	config.SSLNegotiation = "postgres"
	config.SSLCertMode = "disable" // the TLS config holds no client certificate
	config.ChannelBinding = "prefer"
	config.RequireAuth = ""
}

// withAdmin runs fn on the admin connection. It pings a kept connection
// first and reconnects when the ping fails, so a connection the server or
// network dropped while idle does not fail the call. Retrying after a
// failure instead would be unsafe, because a statement such as CREATE
// ROLE may have run before the connection broke.
func (p *PGIssuer) withAdmin(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrIssuerClosed
	}
	if p.admin != nil && p.admin.Ping(ctx) != nil {
		p.closeAdmin()
	}
	if p.admin == nil {
		conn, err := p.connectAdmin(ctx)
		if err != nil {
			return err
		}
		p.admin = conn
	}

	err := fn(p.admin)
	if err != nil && p.admin.IsClosed() {
		p.admin = nil // reconnect on the next call
	}
	return err
}

// closeAdmin closes the admin connection and sets it to nil. The caller
// holds mu.
func (p *PGIssuer) closeAdmin() error {
	if p.admin == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgCloseTimeout)
	defer cancel()
	err := p.admin.Close(ctx)
	p.admin = nil
	return err
}

func (p *PGIssuer) connectAdmin(ctx context.Context) (*pgx.Conn, error) {
	config, err := pgx.ParseConfig(baseConnString)
	if err != nil {
		return nil, fmt.Errorf("credentials: prepare admin connection to Postgres target %s: %w", p.target.Name, err)
	}
	p.connConfig(&config.Config, p.target.AdminUser, p.adminPassword, p.database)
	config.RuntimeParams["application_name"] = adminApplicationName

	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("credentials: connect to Postgres target %s (%s) as admin %s: %w", p.target.Name, p.target.Address, p.target.AdminUser, err)
	}
	return conn, nil
}

// Close closes the admin connection. Calls after Close return
// ErrIssuerClosed.
func (p *PGIssuer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if err := p.closeAdmin(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("credentials: close admin connection to Postgres target %s: %w", p.target.Name, err)
	}
	return nil
}
