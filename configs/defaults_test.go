package configs

import (
	"slices"
	"testing"
	"time"
)

func TestDefaultsServer(t *testing.T) {
	cfg := mustParse(t, "")
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen.web", cfg.Listen.Web, "127.0.0.1:8080"},
		{"listen.ssh", cfg.Listen.SSH, ""},
		{"public_url", cfg.PublicURL, "http://127.0.0.1:8080"},
		{"state.driver", cfg.State.Driver, "sqlite"},
		{"state.path", cfg.State.Path, "jitgate.db"},
		{"recordings.dir", cfg.Recordings.Dir, "recordings"},
		{"ssh.host_key_file", cfg.SSH.HostKeyFile, "ssh_host_ed25519_key"},
		{"ssh.user_ca_key_file", cfg.SSH.UserCAKeyFile, "ssh_user_ca_ed25519_key"},
		{"ssh.max_auth_tries", cfg.SSH.MaxAuthTries, 6},
		{"ssh.max_unauthenticated_per_source", cfg.SSH.MaxUnauthenticatedPerSource, 10},
		{"ssh.ciphers count", len(cfg.SSH.Ciphers), 6},
		{"postgres.max_connections_per_source", cfg.Postgres.MaxConnectionsPerSource, 100},
		{"log.format", cfg.Log.Format, "text"},
		{"log.level", cfg.Log.Level, "info"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if want := []Duration{Duration(5 * time.Minute), Duration(time.Minute)}; !slices.Equal(cfg.Sessions.WarnBefore, want) {
		t.Errorf("sessions.warn_before = %v, want %v", cfg.Sessions.WarnBefore, want)
	}
}

func TestDefaultsPublicURL(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"from listen.web", "listen: {web: 127.0.0.1:9000}\n", "http://127.0.0.1:9000"},
		{"all interfaces become localhost", "listen: {web: \"0.0.0.0:9000\"}\n", "http://localhost:9000"},
		{"empty host becomes localhost", "listen: {web: \":9000\"}\n", "http://localhost:9000"},
		{"https with tls", "web: {tls: {self_signed: true}}\n", "https://127.0.0.1:8080"},
		{"trailing slash removed", "public_url: https://jitgate.example.com/\n", "https://jitgate.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.text).PublicURL; got != tt.want {
				t.Errorf("public_url = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultsContract(t *testing.T) {
	text := applyEdits(t, baseYAML, []edit{
		afterWindow("      extensions: {max_count: 2}\n    break_glass:\n      requesters: {groups: [engineers]}\n      max_window: 1h\n      review_within: 24h\n"),
		{"    window:\n      max: 4h\n", "    window:\n      max: 30m\n"},
	})
	c := mustParse(t, text).Contract("base")
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", c.Version, 1},
		{"approval.quorum", c.Approval.Quorum, 1},
		{"approval.self_approval", c.Approval.SelfApproval, "forbidden"},
		{"approval.pending_ttl", c.Approval.PendingTTL, Duration(30 * time.Minute)},
		{"window.default is max when max is under 1h", c.Window.Default, Duration(30 * time.Minute)},
		{"window.hours", c.Window.Hours == nil, true},
		{"extensions.max_each", c.Window.Extensions.MaxEach, Duration(30 * time.Minute)},
		{"extensions.max_total", c.Window.Extensions.MaxTotal, Duration(time.Hour)},
		{"break_glass.reviewers", c.BreakGlass.Reviewers.Groups[0], "approvers"},
		{"recording.ssh", c.Recording.SSH, "output"},
		{"recording.postgres", c.Recording.Postgres, "queries"},
		{"recording.parameters", c.Recording.Parameters, "redacted"},
		{"retention.events", c.Retention.Events, Duration(0)},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s = %v, want %v", check.name, check.got, check.want)
		}
	}

	long := mustParse(t, baseYAML).Contract("base")
	if long.Window.Default != Duration(time.Hour) {
		t.Errorf("window.default with max 4h = %v, want 1h", long.Window.Default)
	}
}

func TestDefaultsRetentionFromFrameworks(t *testing.T) {
	tests := []struct {
		name       string
		compliance string
		want       Duration
	}{
		{"no fixed minimum", "[soc2:CC6.1, iso27001:5.15, nist800-53:AC-2]", 0},
		{"pci-dss", "[soc2:CC6.1, pci-dss:10.5.1]", Duration(365 * day)},
		{"hipaa is the longest", "[pci-dss:8.2.7, hipaa:164.312(b)]", Duration(2190 * day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, applyEdits(t, baseYAML, []edit{afterWindow("    compliance: " + tt.compliance + "\n")})).Contract("base")
			if c.Retention.Events != tt.want || c.Retention.Recordings != tt.want {
				t.Errorf("retention = %v events, %v recordings; want %v", c.Retention.Events, c.Retention.Recordings, tt.want)
			}
		})
	}
}

func TestDefaultsWebhook(t *testing.T) {
	w := mustParse(t, baseYAML).Webhooks[0]
	if w.Format != "json" || w.Timeout != Duration(5*time.Second) || w.MaxAttempts != 8 {
		t.Errorf("webhook = format %s, timeout %v, max_attempts %d; want json, 5s, 8", w.Format, w.Timeout, w.MaxAttempts)
	}
	if !slices.Equal(w.Events, WebhookEvents) {
		t.Errorf("events = %v, want all of WebhookEvents", w.Events)
	}
}
