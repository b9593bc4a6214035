package configs

import (
	"math"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Default values that the type comments and docs/configuration.md promise.
const (
	defaultWebListen                 = "127.0.0.1:8080"
	defaultStateFile                 = "jitgate.db"
	defaultRecordingsDir             = "recordings"
	defaultHostKeyFile               = "ssh_host_ed25519_key"
	defaultUserCAKeyFile             = "ssh_user_ca_ed25519_key"
	defaultMaxAuthTries              = 6
	defaultMaxUnauthenticated        = 10
	defaultMaxConnectionsPerSource   = 100
	defaultQuorum                    = 1
	defaultPendingTTL                = Duration(30 * time.Minute)
	defaultWindow                    = Duration(time.Hour)
	defaultWebhookTimeout            = Duration(5 * time.Second)
	defaultWebhookMaxAttempts        = 8
	defaultExtensionCount            = 1
	defaultHoursFrom, defaultHoursTo = "00:00", "24:00"
)

// defaultCiphers is the SSH front door's cipher list when none is set:
// AEAD ciphers first, then CTR modes for older clients.
var defaultCiphers = []string{
	"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
	"aes128-ctr", "aes192-ctr", "aes256-ctr",
}

var defaultWarnBefore = []Duration{Duration(5 * time.Minute), Duration(time.Minute)}

// applyDefaults fills every omitted setting that has a default and resolves
// relative file paths against dir, the config file's folder. It only fills
// zero values, so every non-zero value the file wrote reaches validation
// unchanged. Zeros written explicitly are recorded in positions.zeros.
func applyDefaults(cfg *Config, dir string) {
	resolvePaths(cfg, dir)
	defaultServer(cfg, dir)
	for i := range cfg.Targets.Postgres {
		defaultPGTarget(&cfg.Targets.Postgres[i])
	}
	for i := range cfg.Contracts {
		defaultContract(&cfg.Contracts[i])
	}
	for i := range cfg.Webhooks {
		defaultWebhook(&cfg.Webhooks[i])
	}
}

func defaultServer(cfg *Config, dir string) {
	setString(&cfg.Listen.Web, defaultWebListen)
	setString(&cfg.PublicURL, publicURLFor(cfg.Listen.Web, cfg.Web.TLS))
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")

	setString(&cfg.State.Driver, "sqlite")
	if cfg.State.Driver == "sqlite" {
		setString(&cfg.State.Path, filepath.Join(dir, defaultStateFile))
	}
	setString(&cfg.Recordings.Dir, filepath.Join(dir, defaultRecordingsDir))

	// Keys live beside the state file, or beside the config when the state
	// is in PostgreSQL and has no file.
	keyDir := dir
	if cfg.State.Path != "" {
		keyDir = filepath.Dir(cfg.State.Path)
	}
	setString(&cfg.SSH.HostKeyFile, filepath.Join(keyDir, defaultHostKeyFile))
	setString(&cfg.SSH.UserCAKeyFile, filepath.Join(keyDir, defaultUserCAKeyFile))
	if cfg.SSH.Ciphers == nil {
		cfg.SSH.Ciphers = append([]string(nil), defaultCiphers...)
	}
	setInt(&cfg.SSH.MaxAuthTries, defaultMaxAuthTries)
	setInt(&cfg.SSH.MaxUnauthenticatedPerSource, defaultMaxUnauthenticated)
	setInt(&cfg.Postgres.MaxConnectionsPerSource, defaultMaxConnectionsPerSource)

	if cfg.Sessions.WarnBefore == nil {
		cfg.Sessions.WarnBefore = append([]Duration(nil), defaultWarnBefore...)
	}
	setString(&cfg.Log.Format, "text")
	setString(&cfg.Log.Level, "info")
}

// publicURLFor derives the public URL from the web listener. An address
// that binds every interface (":8080", "0.0.0.0:8080") becomes localhost,
// because people cannot open 0.0.0.0 in a browser.
func publicURLFor(listen string, tls TLSFiles) string {
	scheme := "http"
	if tls.CertFile != "" || tls.SelfSigned {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + "://" + listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func defaultPGTarget(t *PGTarget) {
	setString(&t.Database, t.Name)
	setString(&t.TLS, "require")
}

func defaultContract(c *Contract) {
	setInt(&c.Version, 1)

	a := &c.Approval
	if len(a.Stages) == 0 {
		setInt(&a.Quorum, defaultQuorum)
	}
	for i := range a.Stages {
		setInt(&a.Stages[i].Quorum, defaultQuorum)
	}
	setString(&a.SelfApproval, "forbidden")
	setDuration(&a.PendingTTL, defaultPendingTTL)

	defaultWindowTerms(&c.Window)

	if bg := c.BreakGlass; bg != nil && bg.Reviewers.IsEmpty() {
		bg.Reviewers = allApprovers(c)
	}

	setString(&c.Recording.SSH, "output")
	setString(&c.Recording.Postgres, "queries")
	setString(&c.Recording.Parameters, "redacted")

	floor, _ := retentionFloor(c.Compliance)
	setDuration(&c.Retention.Events, floor)
	setDuration(&c.Retention.Recordings, floor)
}

func defaultWindowTerms(w *Window) {
	if w.Max > 0 {
		setDuration(&w.Default, min(defaultWindow, w.Max))
	}
	if h := w.Hours; h != nil {
		if h.Days == nil {
			h.Days = append([]string(nil), defaultDays...)
		}
		setString(&h.From, defaultHoursFrom)
		setString(&h.To, defaultHoursTo)
		setString(&h.TimeZone, "UTC")
	}
	if e := w.Extensions; e != nil {
		setInt(&e.MaxCount, defaultExtensionCount)
		setDuration(&e.MaxEach, w.Max)
		// A negative or absurd count is left for validation to report.
		if e.MaxCount > 0 && e.MaxEach > 0 && int64(e.MaxCount) <= math.MaxInt64/int64(e.MaxEach) {
			setDuration(&e.MaxTotal, Duration(e.MaxCount)*e.MaxEach)
		}
	}
}

// allApprovers merges the approvers of every stage; break-glass reviews go
// to them when a contract names no reviewers.
func allApprovers(c *Contract) Principals {
	var all Principals
	for _, stage := range c.Stages() {
		all.Users = appendMissing(all.Users, stage.Approvers.Users...)
		all.Groups = appendMissing(all.Groups, stage.Approvers.Groups...)
	}
	return all
}

func appendMissing(list []string, items ...string) []string {
	for _, item := range items {
		if !slices.Contains(list, item) {
			list = append(list, item)
		}
	}
	return list
}

func defaultWebhook(w *Webhook) {
	setString(&w.Format, "json")
	setDuration(&w.Timeout, defaultWebhookTimeout)
	setInt(&w.MaxAttempts, defaultWebhookMaxAttempts)
	if w.Events == nil {
		w.Events = append([]string(nil), WebhookEvents...)
	}
}

// resolvePaths makes every relative file path in the config relative to
// dir instead of the working directory.
func resolvePaths(cfg *Config, dir string) {
	paths := []*string{
		&cfg.State.Path, &cfg.Recordings.Dir,
		&cfg.SSH.HostKeyFile, &cfg.SSH.UserCAKeyFile,
		&cfg.Web.TLS.CertFile, &cfg.Web.TLS.KeyFile,
		&cfg.Postgres.TLS.CertFile, &cfg.Postgres.TLS.KeyFile,
	}
	for i := range cfg.Targets.SSH {
		paths = append(paths, &cfg.Targets.SSH[i].KnownHostsFile)
	}
	for i := range cfg.Targets.Postgres {
		t := &cfg.Targets.Postgres[i]
		paths = append(paths, &t.AdminPasswordFile, &t.CAFile)
		if t.ServiceRole != nil {
			paths = append(paths, &t.ServiceRole.PasswordFile)
		}
	}
	for i := range cfg.Webhooks {
		paths = append(paths, &cfg.Webhooks[i].SecretFile)
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func setString(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

func setInt(field *int, value int) {
	if *field == 0 {
		*field = value
	}
}

func setDuration(field *Duration, value Duration) {
	if *field == 0 {
		*field = value
	}
}
