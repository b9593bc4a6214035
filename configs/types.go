// Package configs holds the jitgate configuration schema as Go types, its
// strict YAML loader, defaults and validation. A contract in this schema is
// the single source the proxy enforces, `jitgate contract render` turns into
// amendment text, and the evidence report checks grants against.
package configs

import "time"

// Config is the whole file that `jitgate serve --config FILE` reads.
type Config struct {
	// PublicURL is the base URL people open for approval pages; links in
	// notices and webhooks start with it. Default: http://<listen.web>.
	PublicURL  string     `yaml:"public_url"`
	Listen     Listen     `yaml:"listen"`
	Web        WebConfig  `yaml:"web"`
	State      State      `yaml:"state"`
	Recordings Recordings `yaml:"recordings"`
	SSH        SSHProxy   `yaml:"ssh"`
	Postgres   PGProxy    `yaml:"postgres"`
	Sessions   Sessions   `yaml:"sessions"`
	Log        Log        `yaml:"log"`
	Identities Identities `yaml:"identities"`
	Targets    Targets    `yaml:"targets"`
	Contracts  []Contract `yaml:"contracts"`
	Webhooks   []Webhook  `yaml:"webhooks"`

	// Path is the file the config was loaded from; relative paths inside
	// the file are resolved against its folder.
	Path string `yaml:"-"`
}

// Listen holds the listener addresses; an empty address turns that front
// door off.
type Listen struct {
	Web      string `yaml:"web"`      // default 127.0.0.1:8080
	SSH      string `yaml:"ssh"`      // default off
	Postgres string `yaml:"postgres"` // default off
}

// WebConfig configures the HTTP listener.
type WebConfig struct {
	TLS TLSFiles `yaml:"tls"`
}

// TLSFiles names a certificate and key. With both empty and SelfSigned
// set, a self-signed certificate is generated on first start and kept in
// the state folder.
type TLSFiles struct {
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	SelfSigned bool   `yaml:"self_signed"`
}

// State selects the store.
type State struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite file. Default: jitgate.db beside the config.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string when Driver is "postgres".
	DSN string `yaml:"dsn"`
}

// Recordings is the location of session recordings.
type Recordings struct {
	// Dir is the folder for recordings. Default: recordings beside the config.
	Dir string `yaml:"dir"`
}

// SSHProxy configures the SSH front door and the SSH certificate authority.
type SSHProxy struct {
	// HostKeyFile is the front door's private host key; generated on first
	// start when absent. Default: ssh_host_ed25519_key beside the state file.
	HostKeyFile string `yaml:"host_key_file"`
	// UserCAKeyFile is the private key of the CA that signs upstream user
	// certificates; generated on first start when absent.
	UserCAKeyFile string `yaml:"user_ca_key_file"`
	// LoginCAKeys are authorized_keys lines of CAs whose user certificates
	// authenticate people at the front door (principal = user name).
	LoginCAKeys []string `yaml:"login_ca_keys"`
	// Ciphers is the front door's cipher list in preference order.
	// Default: aes128-gcm@openssh.com, aes256-gcm@openssh.com,
	// chacha20-poly1305@openssh.com, aes128-ctr, aes192-ctr, aes256-ctr.
	Ciphers []string `yaml:"ciphers"`
	// MaxAuthTries caps authentication attempts per connection. Default 6.
	MaxAuthTries int `yaml:"max_auth_tries"`
	// MaxUnauthenticatedPerSource caps connections per source address that
	// have not finished authentication. Default 10.
	MaxUnauthenticatedPerSource int `yaml:"max_unauthenticated_per_source"`
}

// PGProxy configures the PostgreSQL front door.
type PGProxy struct {
	TLS TLSFiles `yaml:"tls"`
	// InsecureAllowPlaintextOnLoopback lets clients send their token
	// without TLS when the listener is bound to loopback only.
	InsecureAllowPlaintextOnLoopback bool `yaml:"insecure_allow_plaintext_on_loopback"`
	// MaxConnectionsPerSource caps concurrent client connections from one
	// address. Default 100.
	MaxConnectionsPerSource int `yaml:"max_connections_per_source"`
}

// Sessions configures live-session handling common to both front doors.
type Sessions struct {
	// WarnBefore lists how long before the window end the client is warned.
	// Default [5m, 1m].
	WarnBefore []Duration `yaml:"warn_before"`
}

// Log configures the server log.
type Log struct {
	Format string `yaml:"format"` // text (default) or json
	Level  string `yaml:"level"`  // debug, info (default), warn, error
}

// Identities lists the people jitgate authenticates. OIDC is not built yet.
type Identities struct {
	Users []User `yaml:"users"`
}

// User is a static person.
type User struct {
	Name   string   `yaml:"name"`
	Email  string   `yaml:"email"`
	Groups []string `yaml:"groups"`
	// SSHKeys are authorized_keys lines accepted at the SSH front door.
	SSHKeys []string `yaml:"ssh_keys"`
	// APITokens are hashes of the person's API tokens, written as
	// "sha256:<hex>" (`jitgate token hash` prints one). A token is also the
	// password at the Postgres front door.
	APITokens []string `yaml:"api_tokens"`
	// PasswordHash is a bcrypt hash for the web sign-in.
	PasswordHash string `yaml:"password_hash"`
}

// Targets lists the hosts and databases behind the proxy.
type Targets struct {
	SSH      []SSHTarget `yaml:"ssh"`
	Postgres []PGTarget  `yaml:"postgres"`
}

// SSHTarget is an sshd that trusts jitgate's user CA.
type SSHTarget struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"` // host:port
	// HostKeys are the target's public host keys (authorized_keys format);
	// at least one of HostKeys, KnownHostsFile or HostCA is required.
	HostKeys       []string `yaml:"host_keys"`
	KnownHostsFile string   `yaml:"known_hosts_file"`
	HostCA         string   `yaml:"host_ca"`
	// Logins are the OS accounts a contract may grant on this host.
	Logins []string `yaml:"logins"`
}

// PGTarget is a PostgreSQL server behind the proxy.
type PGTarget struct {
	Name     string `yaml:"name"`
	Address  string `yaml:"address"`  // host:port
	Database string `yaml:"database"` // default database; default: Name
	// AdminUser and AdminPasswordFile give the role that creates and drops
	// temporary roles (needs CREATEROLE and membership of grantable roles).
	AdminUser         string `yaml:"admin_user"`
	AdminPasswordFile string `yaml:"admin_password_file"`
	// Roles are the existing roles that grants may confer.
	Roles []string `yaml:"roles"`
	// TLS is disable, require (default) or verify-full.
	TLS    string `yaml:"tls"`
	CAFile string `yaml:"ca_file"`
	// ServiceRole, when set, makes every session log in as this fixed role
	// instead of a temporary one; the proxy still enforces the window.
	ServiceRole *ServiceRole `yaml:"service_role"`
}

// ServiceRole is a fixed upstream login.
type ServiceRole struct {
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
}

// Contract is the operational part of an agreement, enforced as written.
type Contract struct {
	ID      string `yaml:"id"`
	Version int    `yaml:"version"`
	Party   string `yaml:"party"`
	// Kind is vendor, partner or internal.
	Kind      string `yaml:"kind"`
	Effective Date   `yaml:"effective"`
	Expires   Date   `yaml:"expires"`
	// Description is free text rendered into the amendment.
	Description string `yaml:"description"`

	Requesters Principals   `yaml:"requesters"`
	Scope      []ScopeEntry `yaml:"scope"`
	Triggers   []string     `yaml:"triggers"`
	Request    RequestRules `yaml:"request"`
	Approval   Approval     `yaml:"approval"`
	Window     Window       `yaml:"window"`
	BreakGlass *BreakGlass  `yaml:"break_glass"`
	SSH        SSHTerms     `yaml:"ssh"`
	Recording  Recording    `yaml:"recording"`
	Retention  Retention    `yaml:"retention"`
	Compliance []string     `yaml:"compliance"`
}

// Principals names people directly and by group.
type Principals struct {
	Users  []string `yaml:"users"`
	Groups []string `yaml:"groups"`
}

// ScopeEntry is one target and what may be granted on it.
type ScopeEntry struct {
	Target string   `yaml:"target"`
	Logins []string `yaml:"logins"` // SSH targets
	Roles  []string `yaml:"roles"`  // Postgres targets
}

// RequestRules are the fields a request must carry.
type RequestRules struct {
	ReasonRequired bool `yaml:"reason_required"`
	// ReasonMinLength is the shortest reason accepted. Default 0.
	ReasonMinLength int  `yaml:"reason_min_length"`
	TicketRequired  bool `yaml:"ticket_required"`
	// TicketPattern is a Go regular expression the ticket must match in
	// full, for example ^INC-[0-9]+$.
	TicketPattern string `yaml:"ticket_pattern"`
}

// Approval is who must agree and how.
type Approval struct {
	// Approvers and Quorum define a single stage when Stages is empty.
	Approvers Principals `yaml:"approvers"`
	Quorum    int        `yaml:"quorum"` // default 1
	// Stages are ordered; each must reach its quorum before the next opens.
	Stages []Stage `yaml:"stages"`
	// SelfApproval is "forbidden" (default) or "allowed".
	SelfApproval string `yaml:"self_approval"`
	// PendingTTL is how long a request waits for a decision. Default 30m.
	PendingTTL Duration `yaml:"pending_ttl"`
}

// Stage is one ordered step of approval.
type Stage struct {
	Name      string     `yaml:"name"`
	Approvers Principals `yaml:"approvers"`
	Quorum    int        `yaml:"quorum"` // default 1
}

// Window is how long and when access lasts.
type Window struct {
	Default Duration `yaml:"default"` // default 1h, capped at Max
	Max     Duration `yaml:"max"`     // required
	Hours   *Hours   `yaml:"hours"`
	// IdleTimeout closes a session with no client input for this long; 0 is off.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxSessions caps concurrent sessions per grant; 0 is unlimited.
	MaxSessions int         `yaml:"max_sessions"`
	Extensions  *Extensions `yaml:"extensions"`
}

// Hours are the permitted hours for starting and holding access.
type Hours struct {
	// Days are three-letter English day names (mon, tue, ...). Default mon-fri.
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"` // HH:MM
	To       string   `yaml:"to"`   // HH:MM, after From
	TimeZone string   `yaml:"time_zone"`
}

// Extensions caps how a grant may be extended.
type Extensions struct {
	MaxCount int      `yaml:"max_count"`
	MaxEach  Duration `yaml:"max_each"`
	MaxTotal Duration `yaml:"max_total"`
}

// BreakGlass lets named people grant themselves access in an emergency.
type BreakGlass struct {
	Requesters   Principals `yaml:"requesters"`
	MaxWindow    Duration   `yaml:"max_window"`
	ReviewWithin Duration   `yaml:"review_within"`
	Reviewers    Principals `yaml:"reviewers"`
}

// SSHTerms are what an SSH session may do on the target beyond running
// commands. They become the extensions of the upstream certificate, and
// the front door rejects the matching requests when a term is off.
type SSHTerms struct {
	// PTY allows a terminal. Default true.
	PTY *bool `yaml:"pty"`
	// PortForwarding allows local, remote and Unix-socket forwarding.
	PortForwarding bool `yaml:"port_forwarding"`
	// AgentForwarding lets the target use the client's SSH agent.
	AgentForwarding bool `yaml:"agent_forwarding"`
	// X11Forwarding allows X11 channels.
	X11Forwarding bool `yaml:"x11_forwarding"`
}

// AllowsPTY reports whether a terminal is allowed.
func (t SSHTerms) AllowsPTY() bool { return t.PTY == nil || *t.PTY }

// Recording says what is recorded.
type Recording struct {
	// SSH is off, output (default) or output+input.
	SSH string `yaml:"ssh"`
	// Postgres is off or queries (default).
	Postgres string `yaml:"postgres"`
	// Parameters is off, on or redacted (default) for query parameters.
	Parameters string `yaml:"parameters"`
	// Redact lists Go regular expressions whose matches are replaced in
	// recorded query text and terminal input.
	Redact []string `yaml:"redact"`
}

// Retention is how long events and recordings are kept.
type Retention struct {
	Events     Duration `yaml:"events"`
	Recordings Duration `yaml:"recordings"`
	LegalHold  bool     `yaml:"legal_hold"`
}

// Webhook is one notification endpoint.
type Webhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Format is json (default, HMAC-signed) or slack.
	Format     string   `yaml:"format"`
	SecretFile string   `yaml:"secret_file"`
	Events     []string `yaml:"events"`
	// Timeout per attempt. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// MaxAttempts before an event is given up. Default 8.
	MaxAttempts int `yaml:"max_attempts"`
}

// Duration is a time.Duration written as Go writes it ("90s", "1h30m") or
// with a day or week suffix ("400d", "2w").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Date is a calendar day ("2026-12-31"). As a bound it means the start of
// that day in UTC for Effective, and the end of that day for Expires.
type Date struct {
	time.Time
}

// NotBefore is the first instant the contract allows a grant.
func (c *Contract) NotBefore() time.Time { return c.Effective.Time }

// NotAfter is the instant no grant may outlive: the end of the Expires day.
func (c *Contract) NotAfter() time.Time { return c.Expires.Time.AddDate(0, 0, 1) }
