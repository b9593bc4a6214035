package configs

import (
	"net"

	"golang.org/x/crypto/ssh"
)

// validateServer checks the settings outside identities, targets,
// contracts and webhooks.
func (v *validator) validateServer() {
	cfg := v.cfg
	v.checkURL("public_url", cfg.PublicURL, "https://jitgate.example.com")
	v.checkAddress("listen.web", cfg.Listen.Web, "127.0.0.1:8080")
	v.checkAddress("listen.ssh", cfg.Listen.SSH, "127.0.0.1:2222")
	v.checkAddress("listen.postgres", cfg.Listen.Postgres, "127.0.0.1:6432")
	v.checkTLSFiles("web.tls", cfg.Web.TLS)

	v.oneOf("state.driver", cfg.State.Driver, "sqlite", "postgres")
	switch {
	case cfg.State.Driver == "postgres":
		// NOTE: the schema keeps the key so configs can name it, but the
		// PostgreSQL store is not built yet.
		v.fail("state.driver", "postgres is not supported yet; use sqlite (the default) and a path")
	case cfg.State.Driver == "sqlite" && cfg.State.DSN != "":
		v.fail("state.dsn", "set, but driver is sqlite, which reads path instead; set driver: postgres or remove dsn")
	}

	for i, warn := range cfg.Sessions.WarnBefore {
		if warn <= 0 {
			v.fail(indexPath("sessions.warn_before", i), "%s is not a time before the window end; use a positive duration such as 5m", warn)
		}
	}
	v.oneOf("log.format", cfg.Log.Format, "text", "json")
	v.oneOf("log.level", cfg.Log.Level, "debug", "info", "warn", "error")

	v.validateSSHProxy()
	v.validatePGProxy()
}

func (v *validator) validateSSHProxy() {
	cfg := v.cfg.SSH
	for i, line := range cfg.LoginCAKeys {
		v.checkAuthorizedKey(indexPath("ssh.login_ca_keys", i), line)
	}
	if cfg.Ciphers != nil && len(cfg.Ciphers) == 0 {
		v.fail("ssh.ciphers", "the list is empty; list ciphers such as [aes256-gcm@openssh.com], or omit ciphers for the default list")
	}
	supported := ssh.SupportedAlgorithms().Ciphers
	for i, cipher := range cfg.Ciphers {
		v.oneOf(indexPath("ssh.ciphers", i), cipher, supported...)
	}
	if cfg.MaxAuthTries < 0 {
		v.fail("ssh.max_auth_tries", "%d is negative; use 1 or more, or omit it for %d", cfg.MaxAuthTries, defaultMaxAuthTries)
	}
	if cfg.MaxUnauthenticatedPerSource < 0 {
		v.fail("ssh.max_unauthenticated_per_source", "%d is negative; use 1 or more, or omit it for %d", cfg.MaxUnauthenticatedPerSource, defaultMaxUnauthenticated)
	}
}

// validatePGProxy checks the Postgres front door. People send their API
// token as the password, so a listener without TLS is accepted only on
// loopback and only with the insecure_ option set.
func (v *validator) validatePGProxy() {
	cfg := v.cfg.Postgres
	v.checkTLSFiles("postgres.tls", cfg.TLS)
	if cfg.MaxConnectionsPerSource < 0 {
		v.fail("postgres.max_connections_per_source", "%d is negative; use 1 or more, or omit it for %d", cfg.MaxConnectionsPerSource, defaultMaxConnectionsPerSource)
	}

	listen := v.cfg.Listen.Postgres
	hasTLS := cfg.TLS.CertFile != "" || cfg.TLS.SelfSigned
	if listen == "" || hasTLS {
		return
	}
	switch {
	case !isLoopback(listen):
		v.fail("postgres.tls", "missing, and listen.postgres %q accepts connections from other machines, so tokens would cross the network in cleartext; set cert_file and key_file or self_signed: true", listen)
	case !cfg.InsecureAllowPlaintextOnLoopback:
		v.fail("postgres.tls", "missing for listen.postgres %q; set cert_file and key_file or self_signed: true, or set insecure_allow_plaintext_on_loopback: true for local testing", listen)
	}
}

// isLoopback reports whether a listen address binds only loopback.
func isLoopback(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
