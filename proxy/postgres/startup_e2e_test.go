package postgres

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

func TestStartupSSLModes(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	rootCert := filepath.Join(e.stateDir, selfSignedCertFile)
	tests := []struct {
		mode    string
		extra   []string
		ok      bool
		stderrs []string
	}{
		{mode: "disable", stderrs: []string{"connections without TLS are rejected", "sslmode=require"}},
		{mode: "allow", ok: true},
		{mode: "prefer", ok: true},
		{mode: "require", ok: true},
		{mode: "verify-full", extra: []string{"sslrootcert=" + rootCert}, ok: true},
		{mode: "prefer", extra: []string{"gssencmode=prefer"}, ok: true},
		{mode: "require", extra: []string{"gssencmode=disable"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.mode+strings.Join(tt.extra, "_"), func(t *testing.T) {
			dsn := e.proxyDSN("alice", append([]string{"sslmode=" + tt.mode}, tt.extra...)...)
			stdout, stderr, code := runPsql(t, "alice", dsn, "", "-c", "select 1")
			if tt.ok && (code != 0 || strings.TrimSpace(stdout) != "1") {
				t.Fatalf("psql sslmode=%s: exit %d, stdout %q, stderr %s", tt.mode, code, stdout, stderr)
			}
			if !tt.ok && code == 0 {
				t.Fatalf("psql sslmode=%s succeeded, want a refusal", tt.mode)
			}
			for _, w := range tt.stderrs {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	t.Run("pgx prefer", func(t *testing.T) {
		conn := e.pgxConnect("alice", "sslmode=prefer")
		defer conn.Close(context.Background())
		if conn.PgConn().ParameterStatus("server_version") == "" {
			t.Error("no server_version ParameterStatus")
		}
	})
}

func TestStartupWithoutTLS(t *testing.T) {
	e := newEnv(t, envOptions{noTLS: true, plaintext: true})
	e.grantAccess("readwrite")
	for _, mode := range []string{"disable", "prefer"} {
		stdout, stderr, code := runPsql(t, "alice", e.proxyDSN("alice", "sslmode="+mode), "", "-c", "select 1")
		if code != 0 || strings.TrimSpace(stdout) != "1" {
			t.Errorf("sslmode=%s on a plaintext loopback listener: exit %d, %s", mode, code, stderr)
		}
	}
	_, stderr, code := runPsql(t, "alice", e.proxyDSN("alice", "sslmode=require"), "", "-c", "select 1")
	if code == 0 || !strings.Contains(stderr, "server does not support SSL") {
		t.Errorf("sslmode=require without TLS: exit %d, stderr %s", code, stderr)
	}
}

// dialRaw opens a TCP connection to the front door for byte-level tests.
func (e *env) dialRaw() net.Conn {
	e.t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort(e.host, strconv.Itoa(e.port)))
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	e.t.Cleanup(func() { c.Close() })
	return c
}

func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

// TestStartupRawNegotiation sends the bytes of the documented repro:
// GSSENCRequest, SSLRequest, then a StartupMessage inside TLS.
func TestStartupRawNegotiation(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	c := e.dialRaw()
	c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30})
	if b := readN(t, c, 1); b[0] != 'N' {
		t.Fatalf("GSSENCRequest answer %q, want N", b)
	}
	c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	if b := readN(t, c, 1); b[0] != 'S' {
		t.Fatalf("SSLRequest answer %q, want S", b)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tc.Write(wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindStartup, Startup: &wire.Startup{
		Major: 3, Params: []wire.Param{{Name: "user", Value: "alice"}, {Name: "database", Value: e.db}},
	}}))
	head := readN(t, tc, 9)
	if head[0] != 'R' || binary.BigEndian.Uint32(head[5:]) != 3 {
		t.Errorf("answer to the startup = %x, want AuthenticationCleartextPassword", head)
	}
}

func TestStartupDirectTLS(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")

	conn := e.pgxConnect("alice", "sslnegotiation=direct")
	var n int
	if err := conn.QueryRow(context.Background(), "select 7").Scan(&n); err != nil || n != 7 {
		t.Errorf("query over direct TLS: %d, %v", n, err)
	}
	conn.Close(context.Background())

	for _, alpn := range [][]string{nil, {"h2"}} {
		tc := tls.Client(e.dialRaw(), &tls.Config{InsecureSkipVerify: true, NextProtos: alpn})
		if err := tc.Handshake(); err == nil {
			t.Errorf("direct TLS with ALPN %v completed, want a fatal alert", alpn)
		}
	}
	tc := tls.Client(e.dialRaw(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"postgresql"}})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("direct TLS with ALPN postgresql: %v", err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "postgresql" {
		t.Errorf("negotiated ALPN %q, want postgresql", p)
	}
}

func TestStartupChannelBinding(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	tests := []struct {
		extra string
		ok    bool
		want  string
	}{
		{extra: "channel_binding=require", want: "channel binding required but not supported by server's authentication request"},
		{extra: "channel_binding=prefer", ok: true},
		{extra: "channel_binding=disable", ok: true},
		// libpq 15 connects before it checks this combination, so the
		// refusal is the front door's own, without a hang.
		{extra: "sslmode=disable channel_binding=require", want: "connections without TLS are rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.extra, func(t *testing.T) {
			stdout, stderr, code := runPsql(t, "alice", e.proxyDSN("alice", tt.extra), "", "-c", "select 1")
			if tt.ok != (code == 0) {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
	_, err := e.pgxConnectErr("alice", "channel_binding=require")
	if err == nil || !strings.Contains(err.Error(), "channel binding") {
		t.Errorf("pgx with channel_binding=require: %v, want a channel binding refusal", err)
	}
}

func TestStartupParametersPassThrough(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	admin := e.adminConn(e.db)
	defer admin.Close(context.Background())
	admin.Exec(context.Background(), "create schema s1; grant usage on schema s1 to readwrite")

	script := "show search_path; show statement_timeout; show datestyle; show extra_float_digits; select application_name from pg_stat_activity where pid = pg_backend_pid();"
	run := func(dsn, user string, env ...string) string {
		p := startPsqlEnv(t, user, dsn, script, env)
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("psql exit %d: %s", code, p.stderr.String())
		}
		return p.stdout.String()
	}
	settings := []string{"PGOPTIONS=-c search_path=s1 -c statement_timeout=5s -c jitgate.role=readwrite -c extra_float_digits=2", "PGAPPNAME=b26", "PGDATESTYLE=Postgres, MDY"}
	viaProxy := run(e.proxyDSN("alice"), "alice", settings...)
	direct := run(e.pg.DSN(e.db), "postgres", append(settings[:0:0], "PGOPTIONS=-c search_path=s1 -c statement_timeout=5s -c extra_float_digits=2", "PGAPPNAME=b26", "PGDATESTYLE=Postgres, MDY", "PGPASSWORD="+e.pg.AdminPassword)...)
	if viaProxy != direct {
		t.Errorf("settings through jitgate:\n%s\ndirect:\n%s", viaProxy, direct)
	}
	if want := "s1\n5s\nPostgres, MDY\n2\nb26\n"; viaProxy != want {
		t.Errorf("settings = %q, want %q", viaProxy, want)
	}

	_, proxyErr, _ := runPsql(t, "alice", e.proxyDSN("alice", "options='-c no_such_guc=1'"), "", "-c", "select 1")
	if !strings.Contains(proxyErr, `FATAL:  unrecognized configuration parameter "no_such_guc"`) {
		t.Errorf("unknown setting through jitgate: %s", proxyErr)
	}
	_, err := e.pgxConnectErr("alice", "options='-c no_such_guc=1'")
	if pgErrorCode(err) != "42704" {
		t.Errorf("pgx error for an unknown setting = %v, want SQLSTATE 42704 as direct", err)
	}
}

// startPsqlEnv is startPsql with more environment variables.
func startPsqlEnv(t *testing.T, user, dsn, stdin string, env []string) *psqlRun {
	p := startPsqlDeferred(t, user, dsn, stdin)
	for _, kv := range env {
		if strings.HasPrefix(kv, "PGPASSWORD=") {
			for i, old := range p.cmd.Env {
				if strings.HasPrefix(old, "PGPASSWORD=") {
					p.cmd.Env[i] = kv
				}
			}
			continue
		}
		p.cmd.Env = append(p.cmd.Env, kv)
	}
	p.launch(t)
	return p
}

func TestStartupProtocolNegotiation(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	conn := e.pgxConnect("alice", "max_protocol_version=3.2")
	var n int
	if err := conn.QueryRow(context.Background(), "select 3").Scan(&n); err != nil || n != 3 {
		t.Errorf("query after asking for protocol 3.2: %d, %v", n, err)
	}
	conn.Close(context.Background())

	// Raw 3.2 with a protocol option: NegotiateProtocolVersion names
	// minor 0 and the option, then the authentication request follows.
	c := tls.Client(e.dialRaw(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"postgresql"}})
	c.Write(wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindStartup, Startup: &wire.Startup{
		Major: 3, Minor: 2, Params: []wire.Param{{Name: "user", Value: "alice"}, {Name: "database", Value: e.db}, {Name: "_pq_.probe", Value: "1"}},
	}}))
	head := readN(t, c, 5)
	body := readN(t, c, int(binary.BigEndian.Uint32(head[1:]))-4)
	if head[0] != 'v' || binary.BigEndian.Uint32(body) != 0 || binary.BigEndian.Uint32(body[4:]) != 1 || string(body[8:len(body)-1]) != "_pq_.probe" {
		t.Errorf("NegotiateProtocolVersion = %q %x", head[0], body)
	}
	if r := readN(t, c, 9); r[0] != 'R' {
		t.Errorf("after NegotiateProtocolVersion got %q, want an authentication request", r[0])
	}
}

func TestStartupReplicationRejected(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	_, stderr, code := runPsql(t, "alice", e.proxyDSN("alice", "replication=database"), "", "-c", "IDENTIFY_SYSTEM")
	if code == 0 || !strings.Contains(stderr, "replication connections are not allowed through jitgate") {
		t.Errorf("replication connection: exit %d, stderr %s", code, stderr)
	}

	// The replication tools get the same refusal at startup, not a hang.
	tools := [][]string{
		{"pg_basebackup", "-d", e.proxyDSN("alice"), "-D", filepath.Join(t.TempDir(), "bb"), "-X", "stream"},
		{"pg_recvlogical", "-d", e.proxyDSN("alice"), "--slot", "s1", "--create-slot"},
	}
	for _, args := range tools {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PGPASSWORD=" + aliceToken}
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), "replication connections are not allowed through jitgate") {
			t.Errorf("%s: %v\n%s", args[0], err, out)
		}
	}
}

func TestStartupRoleSelection(t *testing.T) {
	e := newEnv(t, envOptions{roles: []string{"readonly", "readwrite"}})
	e.grantAccess("readonly")
	e.grantAccess("readwrite")
	tests := []struct {
		name string
		dsn  string
		env  []string
		want string // stdout, or a stderr fragment for a refusal
		ok   bool
	}{
		{name: "no role", dsn: e.proxyDSN("alice"), want: "choose a role on " + e.db + ", one of: readonly, readwrite"},
		{name: "role in dbname", dsn: e.proxyDSN("alice", "dbname="+e.db+"@readonly"), want: "readonly", ok: true},
		{name: "role in options", dsn: e.proxyDSN("alice"), env: []string{"PGOPTIONS=-c jitgate.role=readwrite"}, want: "readwrite", ok: true},
		{name: "database in dbname", dsn: e.proxyDSN("alice", "dbname="+e.db+"/postgres@readonly"), want: "readonly", ok: true},
		{name: "conflicting role", dsn: e.proxyDSN("alice", "dbname="+e.db+"@readonly"), env: []string{"PGOPTIONS=-c jitgate.role=readwrite"}, want: "conflicts with jitgate.role=readwrite"},
		{name: "unknown setting", dsn: e.proxyDSN("alice", "dbname="+e.db+"@readonly"), env: []string{"PGOPTIONS=-c jitgate.rol=x"}, want: `unrecognized setting "jitgate.rol"`},
		{name: "unknown target", dsn: e.proxyDSN("alice", "dbname=nope"), want: `no Postgres target is named "nope"`},
		{name: "wrong token", dsn: e.proxyDSN("alice"), env: []string{"PGPASSWORD=" + bobToken}, want: `password authentication failed for user "alice"`},
	}
	query := "select string_agg(b.rolname, ',') from pg_auth_members m join pg_roles b on b.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = current_user;"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPsqlEnv(t, "alice", tt.dsn, query, tt.env)
			code := p.wait(t, 60*time.Second)
			stdout, stderr := strings.TrimSpace(p.stdout.String()), p.stderr.String()
			if tt.ok {
				if code != 0 || stdout != tt.want {
					t.Errorf("exit %d, stdout %q, want %q; stderr %s", code, stdout, tt.want, stderr)
				}
				return
			}
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", code, tt.want, stderr)
			}
		})
	}
}
