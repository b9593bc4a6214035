package credentials

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/testenv"
)

// pgFixture is a test database with a granted role that may read the
// table visible but not the table hidden, and an issuer for it.
type pgFixture struct {
	pg       *localtarget.Postgres
	database string
	role     string // the granted role
	issuer   *PGIssuer
	admin    *pgx.Conn
}

func newPGFixture(t *testing.T, grantedRole string) *pgFixture {
	t.Helper()
	pg := testenv.SharedPostgres(t)
	database := testenv.Database(t, pg)
	ctx := t.Context()

	admin, err := pgx.Connect(ctx, pg.DSN(database))
	mustNil(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })

	// Roles are cluster-wide, so the granted role gets the database name
	// as a suffix to stay unique within the shared cluster.
	role := grantedRole + "_" + database[len(database)-8:]
	quotedRole := quoteIdentifier(role)
	setup := []string{
		"CREATE ROLE " + quotedRole + " NOLOGIN",
		"CREATE TABLE visible (id int)",
		"INSERT INTO visible VALUES (1), (2)",
		"CREATE TABLE hidden (secret text)",
		"GRANT SELECT ON visible TO " + quotedRole,
		"GRANT CREATE ON SCHEMA public TO " + quotedRole,
	}
	for _, statement := range setup {
		_, err := admin.Exec(ctx, statement)
		mustNil(t, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The test database is dropped later; its objects must go first.
		admin.Exec(ctx, "DROP OWNED BY "+quotedRole)
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+quotedRole)
	})

	target := configs.PGTarget{
		Name:      "orders",
		Address:   net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)),
		Database:  database,
		AdminUser: pg.AdminUser,
		Roles:     []string{role},
		TLS:       TLSVerifyFull,
		CAFile:    pg.CertFile,
	}
	issuer, err := NewPGIssuer(target, pg.AdminPassword)
	mustNil(t, err)
	t.Cleanup(func() {
		if err := issuer.Close(); err != nil {
			t.Errorf("close issuer: %v", err)
		}
	})
	return &pgFixture{pg: pg, database: database, role: role, issuer: issuer, admin: admin}
}

// mint creates a role valid for an hour and drops it when the test ends.
func (f *pgFixture) mint(t *testing.T, grantID int64) *PGRole {
	t.Helper()
	role, err := f.issuer.Mint(t.Context(), MintRole{GrantID: grantID, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	mustNil(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.issuer.Revoke(ctx, role.Name); err != nil && !errors.Is(err, ErrIssuerClosed) {
			t.Errorf("revoke %s at cleanup: %v", role.Name, err)
		}
	})
	return role
}

// connectAs logs in as role with pgx, the way a client would.
func (f *pgFixture) connectAs(t *testing.T, role *PGRole) (*pgx.Conn, error) {
	t.Helper()
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role.Name, role.Password),
		Host:     net.JoinHostPort(f.pg.Host, strconv.Itoa(f.pg.Port)),
		Path:     "/" + f.database,
		RawQuery: "sslmode=require",
	}
	return pgx.Connect(t.Context(), u.String())
}

func (f *pgFixture) roleExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	err := f.admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists)
	mustNil(t, err)
	return exists
}

func TestPGMintRoleHasGrantedPrivileges(t *testing.T) {
	f := newPGFixture(t, "readonly")
	role := f.mint(t, 42)

	if !regexp.MustCompile(`^jitgate_g42_[a-z0-9]{6}$`).MatchString(role.Name) {
		t.Errorf("role name = %q, want jitgate_g42_ and 6 random characters", role.Name)
	}
	conn, err := f.connectAs(t, role)
	if err != nil {
		t.Fatalf("log in as the minted role: %v", err)
	}
	defer conn.Close(context.Background())

	var count int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM visible").Scan(&count); err != nil {
		t.Errorf("read the table granted to the role: %v", err)
	}
	if count != 2 {
		t.Errorf("visible has %d rows, want 2", count)
	}

	_, err = conn.Exec(t.Context(), "SELECT * FROM hidden")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("read a table not granted: err = %v, want insufficient_privilege (42501)", err)
	}
}

func TestPGMintRoleAttributes(t *testing.T) {
	f := newPGFixture(t, "readonly")
	end := time.Now().Add(90 * time.Minute).Truncate(time.Second).Add(250 * time.Millisecond)
	role, err := f.issuer.Mint(t.Context(), MintRole{GrantID: 7, Role: f.role, ValidUntil: end, ConnLimit: 3})
	mustNil(t, err)
	t.Cleanup(func() { f.issuer.Revoke(context.Background(), role.Name) })

	var (
		validUntil                 time.Time
		password                   string
		inherit, login, super      bool
		createRole, createDB, repl bool
		bypassRLS                  bool
		connLimit                  int
	)
	err = f.admin.QueryRow(t.Context(), `
		SELECT rolvaliduntil, rolpassword, rolinherit, rolcanlogin, rolsuper,
		       rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit
		FROM pg_authid WHERE rolname = $1`, role.Name).
		Scan(&validUntil, &password, &inherit, &login, &super, &createRole, &createDB, &repl, &bypassRLS, &connLimit)
	mustNil(t, err)

	if !validUntil.Truncate(time.Second).Equal(end.Truncate(time.Second)) {
		t.Errorf("rolvaliduntil = %v, want the window end %v to the second", validUntil, end)
	}
	if validUntil.After(end) {
		t.Errorf("rolvaliduntil %v is after the window end %v", validUntil, end)
	}
	if !role.ValidUntil.Equal(validUntil) {
		t.Errorf("PGRole.ValidUntil = %v, want the stored %v", role.ValidUntil, validUntil)
	}
	if !strings.HasPrefix(password, "SCRAM-SHA-256$1:") {
		t.Errorf("stored password %q is not the SCRAM secret computed by Mint", password)
	}
	if strings.Contains(password, role.Password) {
		t.Error("stored password contains the clear-text password")
	}
	flags := []struct {
		column string
		got    bool
		want   bool
	}{
		{"rolinherit", inherit, true},
		{"rolcanlogin", login, true},
		{"rolsuper", super, false},
		{"rolcreaterole", createRole, false},
		{"rolcreatedb", createDB, false},
		{"rolreplication", repl, false},
		{"rolbypassrls", bypassRLS, false},
	}
	for _, flag := range flags {
		if flag.got != flag.want {
			t.Errorf("%s = %v, want %v", flag.column, flag.got, flag.want)
		}
	}
	if connLimit != 3 {
		t.Errorf("rolconnlimit = %d, want 3", connLimit)
	}

	var member bool
	mustNil(t, f.admin.QueryRow(t.Context(), "SELECT pg_has_role($1, $2, 'MEMBER')", role.Name, f.role).Scan(&member))
	if !member {
		t.Errorf("role %s is not a member of the granted role %s", role.Name, f.role)
	}
}

func TestPGMintUnlimitedConnections(t *testing.T) {
	f := newPGFixture(t, "readonly")
	role := f.mint(t, 8)
	var connLimit int
	mustNil(t, f.admin.QueryRow(t.Context(), "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", role.Name).Scan(&connLimit))
	if connLimit != -1 {
		t.Errorf("rolconnlimit = %d, want -1 for ConnLimit 0", connLimit)
	}
}

func TestPGMintQuotedRoleName(t *testing.T) {
	f := newPGFixture(t, `weird"role'; DROP TABLE visible; --`)
	role := f.mint(t, 9)

	conn, err := f.connectAs(t, role)
	if err != nil {
		t.Fatalf("log in as the minted role: %v", err)
	}
	defer conn.Close(context.Background())
	var count int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM visible").Scan(&count); err != nil {
		t.Errorf("read the granted table through the quoted role: %v", err)
	}
	if count != 2 {
		t.Errorf("visible has %d rows, want 2", count)
	}
}

func TestPGMintRejectsUnlistedRole(t *testing.T) {
	f := newPGFixture(t, "readonly")
	_, err := f.issuer.Mint(t.Context(), MintRole{GrantID: 1, Role: f.pg.AdminUser, ValidUntil: time.Now().Add(time.Hour)})
	if !errors.Is(err, ErrRoleNotGrantable) {
		t.Errorf("Mint of the admin role: err = %v, want ErrRoleNotGrantable", err)
	}
}

func TestPGConnectUpstream(t *testing.T) {
	f := newPGFixture(t, "readonly")
	role := f.mint(t, 10)

	conn, err := f.issuer.Connect(t.Context(), role, "", map[string]string{"application_name": "psql via jitgate"})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer conn.Close(context.Background())

	results, err := conn.Exec(t.Context(), "SELECT current_user, current_database(), current_setting('application_name')").ReadAll()
	mustNil(t, err)
	row := results[0].Rows[0]
	if got := string(row[0]); got != role.Name {
		t.Errorf("current_user = %s, want %s", got, role.Name)
	}
	if got := string(row[1]); got != f.database {
		t.Errorf("current_database = %s, want %s", got, f.database)
	}
	if got := string(row[2]); got != "psql via jitgate" {
		t.Errorf("application_name = %q, want the passed-through value", got)
	}

	if _, err := f.issuer.Connect(t.Context(), role, "", map[string]string{"user": "postgres"}); err == nil {
		t.Error("Connect with a user parameter: got nil error")
	}
}

func TestPGRevokeEndsSessionAndDropsRole(t *testing.T) {
	f := newPGFixture(t, "readonly")
	role := f.mint(t, 11)
	conn, err := f.connectAs(t, role)
	if err != nil {
		t.Fatalf("log in as the minted role: %v", err)
	}
	defer conn.Close(context.Background())
	// An object the role owns must not block the drop.
	_, err = conn.Exec(t.Context(), "CREATE TABLE scratch (id int)")
	mustNil(t, err)

	mustNil(t, f.issuer.Revoke(t.Context(), role.Name))

	if _, err := conn.Exec(t.Context(), "SELECT 1"); err == nil {
		t.Error("the role's open session still runs queries after Revoke")
	}
	if f.roleExists(t, role.Name) {
		t.Errorf("role %s still exists after Revoke", role.Name)
	}
	var owner string
	mustNil(t, f.admin.QueryRow(t.Context(), "SELECT tableowner FROM pg_tables WHERE tablename = 'scratch'").Scan(&owner))
	if owner != f.role {
		t.Errorf("owner of the role's table = %s, want the granted role %s", owner, f.role)
	}
	if _, err := f.connectAs(t, role); err == nil {
		t.Error("a new login as the revoked role succeeded")
	}

	if err := f.issuer.Revoke(t.Context(), role.Name); err != nil {
		t.Errorf("second Revoke of the same role: %v, want nil", err)
	}
}

// pg_terminate_backend returns false for a session that exited on its
// own after pg_stat_activity listed it. Revoke must not call that session
// stuck, so only sessions of the role that still run count.
func TestPGLiveBackendsSkipsExitedSessions(t *testing.T) {
	f := newPGFixture(t, "readonly")
	role := f.mint(t, 12)
	conn, err := f.connectAs(t, role)
	if err != nil {
		t.Fatalf("log in as the minted role: %v", err)
	}
	defer conn.Close(context.Background())
	var rolePID, adminPID int32
	mustNil(t, conn.QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&rolePID))
	mustNil(t, f.admin.QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&adminPID))

	// PID 1 is no backend, as for a session that has exited, and the
	// admin's backend is another role's.
	got, err := liveBackends(t.Context(), f.admin, role.Name, []int32{rolePID, 1, adminPID})
	mustNil(t, err)
	if want := []string{strconv.Itoa(int(rolePID))}; !slices.Equal(got, want) {
		t.Errorf("live backends = %v, want only the role's session %v", got, want)
	}
}

func TestPGRevokeRefusesOtherRoles(t *testing.T) {
	f := newPGFixture(t, "readonly")
	err := f.issuer.Revoke(t.Context(), f.role)
	if !errors.Is(err, ErrNotJITGateRole) {
		t.Errorf("Revoke of %s: err = %v, want ErrNotJITGateRole", f.role, err)
	}
	if !f.roleExists(t, f.role) {
		t.Errorf("role %s was dropped", f.role)
	}
}

func TestPGSweepDropsOrphans(t *testing.T) {
	f := newPGFixture(t, "readonly")
	live := f.mint(t, 20)
	orphans := []*PGRole{f.mint(t, 21), f.mint(t, 22)}
	orphanNames := []string{orphans[0].Name, orphans[1].Name}

	var offered []string
	dropped, err := f.issuer.Sweep(t.Context(), func(name string) bool {
		offered = append(offered, name)
		return !slices.Contains(orphanNames, name)
	})
	mustNil(t, err)

	slices.Sort(dropped)
	slices.Sort(orphanNames)
	if !slices.Equal(dropped, orphanNames) {
		t.Errorf("Sweep dropped %q, want %q", dropped, orphanNames)
	}
	for _, name := range orphanNames {
		if f.roleExists(t, name) {
			t.Errorf("orphan %s still exists", name)
		}
	}
	if !f.roleExists(t, live.Name) {
		t.Errorf("live role %s was dropped", live.Name)
	}
	if slices.Contains(offered, f.role) {
		t.Errorf("Sweep offered %s, which lacks the jitgate_ prefix", f.role)
	}
	if !slices.Contains(offered, live.Name) {
		t.Errorf("Sweep did not offer the live role %s to keep", live.Name)
	}
}

func TestPGSweepIgnoresLookalikeNames(t *testing.T) {
	f := newPGFixture(t, "readonly")
	// "_" is a LIKE wildcard; the prefix match must treat it literally.
	lookalike := "jitgateXg1_" + f.database[len(f.database)-8:]
	_, err := f.admin.Exec(t.Context(), "CREATE ROLE "+quoteIdentifier(lookalike))
	mustNil(t, err)
	t.Cleanup(func() { f.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+quoteIdentifier(lookalike)) })

	_, err = f.issuer.Sweep(t.Context(), func(name string) bool {
		if name == lookalike {
			t.Errorf("Sweep offered %s, which lacks the jitgate_ prefix", name)
		}
		return true
	})
	mustNil(t, err)
}

func TestPGIssuerReconnectsAdmin(t *testing.T) {
	f := newPGFixture(t, "readonly")
	f.mint(t, 30)

	// End the issuer's admin session from outside, as a server restart or
	// an idle timeout would.
	_, err := f.admin.Exec(t.Context(), "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2", adminApplicationName, f.database)
	mustNil(t, err)

	role, err := f.issuer.Mint(t.Context(), MintRole{GrantID: 31, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("Mint after the admin session ended: %v", err)
	}
	mustNil(t, f.issuer.Revoke(t.Context(), role.Name))

	var sessions int
	mustNil(t, f.admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2", adminApplicationName, f.database).Scan(&sessions))
	if sessions != 1 {
		t.Errorf("issuer has %d admin sessions, want 1 reused session", sessions)
	}
}

func TestPGIssuerClosed(t *testing.T) {
	f := newPGFixture(t, "readonly")
	mustNil(t, f.issuer.Close())
	_, err := f.issuer.Mint(t.Context(), MintRole{GrantID: 1, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	if !errors.Is(err, ErrIssuerClosed) {
		t.Errorf("Mint after Close: err = %v, want ErrIssuerClosed", err)
	}
}

func TestNewPGIssuerRejectsBadSettings(t *testing.T) {
	base := configs.PGTarget{Name: "orders", Address: "127.0.0.1:5432", AdminUser: "postgres"}
	tests := []struct {
		name   string
		change func(*configs.PGTarget)
	}{
		{"no port", func(p *configs.PGTarget) { p.Address = "127.0.0.1" }},
		{"port zero", func(p *configs.PGTarget) { p.Address = "127.0.0.1:0" }},
		{"no admin", func(p *configs.PGTarget) { p.AdminUser = "" }},
		{"unknown TLS mode", func(p *configs.PGTarget) { p.TLS = "prefer" }},
		{"missing CA file", func(p *configs.PGTarget) { p.TLS = TLSVerifyFull; p.CAFile = "/nonexistent/ca.pem" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := base
			tt.change(&target)
			_, err := NewPGIssuer(target, "secret")
			if err == nil {
				t.Fatal("NewPGIssuer: got nil error")
			}
			if !strings.Contains(err.Error(), "orders") {
				t.Errorf("error %q does not name the target", err)
			}
		})
	}
}

func TestPGIssuerIgnoresEnvironment(t *testing.T) {
	f := newPGFixture(t, "readonly")
	// libpq variables that would break or redirect a connection config
	// built from the environment.
	environment := map[string]string{
		"PGHOST":           "192.0.2.1",
		"PGPORT":           "1",
		"PGUSER":           "intruder",
		"PGPASSWORD":       "wrong",
		"PGSSLMODE":        "verify-full",
		"PGSSLROOTCERT":    filepath.Join(t.TempDir(), "absent.pem"),
		"PGSSLNEGOTIATION": "direct",
		"PGAPPNAME":        "from-environment",
		"PGOPTIONS":        "-c search_path=elsewhere",
	}
	for name, value := range environment {
		t.Setenv(name, value)
	}

	role, err := f.issuer.Mint(t.Context(), MintRole{GrantID: 40, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("Mint with PG* variables set: %v", err)
	}
	defer f.issuer.Revoke(context.Background(), role.Name)

	conn, err := f.issuer.Connect(t.Context(), role, "", nil)
	if err != nil {
		t.Fatalf("Connect with PG* variables set: %v", err)
	}
	defer conn.Close(context.Background())
	results, err := conn.Exec(t.Context(), "SELECT current_setting('application_name'), current_setting('search_path')").ReadAll()
	mustNil(t, err)
	row := results[0].Rows[0]
	if got := string(row[0]); got == "from-environment" {
		t.Error("application_name came from PGAPPNAME")
	}
	if got := string(row[1]); got == "elsewhere" {
		t.Error("search_path came from PGOPTIONS")
	}
}

// writeOtherCA writes a self-signed CA certificate that signed nothing the
// test server presents.
func writeOtherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mustNil(t, err)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	mustNil(t, err)
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	mustNil(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}

func TestPGConnectTLSModes(t *testing.T) {
	f := newPGFixture(t, "readonly")
	tests := []struct {
		name    string
		mode    string
		caFile  string
		wantSSL bool
	}{
		{"disable", TLSDisable, "", false},
		{"require", TLSRequire, "", true},
		{"default is require", "", "", true},
		{"verify-full", TLSVerifyFull, f.pg.CertFile, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := f.issuer.target
			target.TLS = tt.mode
			target.CAFile = tt.caFile
			issuer, err := NewPGIssuer(target, f.pg.AdminPassword)
			mustNil(t, err)
			defer issuer.Close()

			role, err := issuer.Mint(t.Context(), MintRole{GrantID: 50, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
			mustNil(t, err)
			defer issuer.Revoke(context.Background(), role.Name)
			conn, err := issuer.Connect(t.Context(), role, "", nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer conn.Close(context.Background())

			results, err := conn.Exec(t.Context(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").ReadAll()
			mustNil(t, err)
			if got := string(results[0].Rows[0][0]) == "t"; got != tt.wantSSL {
				t.Errorf("connection uses TLS = %v, want %v", got, tt.wantSSL)
			}
		})
	}
}

func TestPGVerifyFullRejectsOtherCA(t *testing.T) {
	f := newPGFixture(t, "readonly")
	target := f.issuer.target
	target.CAFile = writeOtherCA(t)
	issuer, err := NewPGIssuer(target, f.pg.AdminPassword)
	mustNil(t, err)
	defer issuer.Close()

	_, err = issuer.Mint(t.Context(), MintRole{GrantID: 51, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Errorf("Mint through a server whose certificate the CA file does not trust: err = %v, want x509.UnknownAuthorityError", err)
	}
}

func TestPGSweepSparesAdminLookalike(t *testing.T) {
	f := newPGFixture(t, "readonly")
	// An operator's admin role may share the prefix, as jitgate_admin does.
	admin := "jitgate_admin_" + f.database[len(f.database)-8:]
	_, err := f.admin.Exec(t.Context(), "CREATE ROLE "+quoteIdentifier(admin)+" LOGIN")
	mustNil(t, err)
	t.Cleanup(func() { f.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+quoteIdentifier(admin)) })

	dropped, err := f.issuer.Sweep(t.Context(), func(string) bool { return false })
	mustNil(t, err)
	if slices.Contains(dropped, admin) || !f.roleExists(t, admin) {
		t.Errorf("Sweep dropped %s, which is not a temporary role", admin)
	}
	if err := f.issuer.Revoke(t.Context(), admin); !errors.Is(err, ErrNotJITGateRole) {
		t.Errorf("Revoke of %s: err = %v, want ErrNotJITGateRole", admin, err)
	}
}

func TestPGRevokeWithCreateroleAdmin(t *testing.T) {
	f := newPGFixture(t, "readwrite")
	ctx := t.Context()
	// The admin the demo and docs describe: CREATEROLE, ADMIN OPTION on the
	// grantable role and pg_signal_backend, but not superuser.
	adminName := "jg_admin_" + f.database[len(f.database)-8:]
	adminPassword := "admin-test-password"
	for _, statement := range []string{
		"CREATE ROLE " + quoteIdentifier(adminName) + " LOGIN CREATEROLE PASSWORD '" + adminPassword + "'",
		"GRANT " + quoteIdentifier(f.role) + " TO " + quoteIdentifier(adminName) + " WITH ADMIN OPTION",
		"GRANT pg_signal_backend TO " + quoteIdentifier(adminName),
	} {
		_, err := f.admin.Exec(ctx, statement)
		mustNil(t, err)
	}
	t.Cleanup(func() {
		f.admin.Exec(context.Background(), "DROP OWNED BY "+quoteIdentifier(adminName))
		f.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+quoteIdentifier(adminName))
	})
	target := f.issuer.target
	target.AdminUser = adminName
	issuer, err := NewPGIssuer(target, adminPassword)
	mustNil(t, err)
	t.Cleanup(func() { issuer.Close() })

	role, err := issuer.Mint(ctx, MintRole{GrantID: 77, Role: f.role, ValidUntil: time.Now().Add(time.Hour)})
	mustNil(t, err)
	conn, err := f.connectAs(t, role)
	mustNil(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "CREATE TABLE made_by_temp (id int)")
	mustNil(t, err)

	if err := issuer.Revoke(ctx, role.Name); err != nil {
		t.Fatalf("Revoke with a CREATEROLE admin: %v", err)
	}
	if f.roleExists(t, role.Name) {
		t.Errorf("role %s still exists after Revoke", role.Name)
	}
	var owner string
	err = f.admin.QueryRow(ctx, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'made_by_temp'").Scan(&owner)
	mustNil(t, err)
	if owner != f.role {
		t.Errorf("made_by_temp is owned by %s after Revoke, want the granted role %s", owner, f.role)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Errorf("the temporary role's session still runs queries after Revoke")
	}
}
