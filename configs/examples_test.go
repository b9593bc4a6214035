package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func loadExample(t *testing.T, name string) *Config {
	t.Helper()
	cfg, err := Load(filepath.Join("examples", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return cfg
}

// tokenHash is the form api_tokens store for a token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestDemoExample(t *testing.T) {
	cfg := loadExample(t, "demo.yaml")

	for _, person := range []struct{ name, group, token string }{
		{"alice", "engineers", "alice-demo-token"},
		{"bob", "approvers", "bob-demo-token"},
	} {
		u := cfg.User(person.name)
		if u == nil {
			t.Fatalf("user %s missing", person.name)
		}
		if !slices.Contains(u.Groups, person.group) {
			t.Errorf("%s groups = %v, want %s", person.name, u.Groups, person.group)
		}
		if !slices.Contains(u.APITokens, tokenHash(person.token)) {
			t.Errorf("%s api_tokens lack the hash of %q", person.name, person.token)
		}
	}

	if cfg.SSHTarget("web-1") == nil {
		t.Error("SSH target web-1 missing")
	}
	if app := cfg.PGTarget("app"); app == nil || !slices.Equal(app.Roles, []string{"readonly", "readwrite"}) {
		t.Errorf("Postgres target app = %+v, want roles readonly and readwrite", app)
	}

	if len(cfg.Contracts) != 1 {
		t.Fatalf("%d contracts, want 1", len(cfg.Contracts))
	}
	c := cfg.Contract("demo-access")
	switch {
	case c == nil:
		t.Fatal("contract demo-access missing")
	case c.Kind != "internal":
		t.Errorf("kind = %s, want internal", c.Kind)
	case c.Window.Max != Duration(10*time.Minute):
		t.Errorf("window.max = %v, want 10m", c.Window.Max)
	case c.Window.Hours != nil:
		t.Errorf("window.hours = %+v, want none", c.Window.Hours)
	}
	if !c.CoversSSH("web-1", "deploy") || !c.CoversPG("app", "readwrite") {
		t.Error("demo-access does not cover web-1 deploy and app readwrite")
	}
	if got := c.Approval.Approvers.Resolve(cfg.Identities.Users); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("approvers = %v, want [bob]", got)
	}
}

func TestProductionExample(t *testing.T) {
	cfg := loadExample(t, "production.yaml")

	vendor := cfg.Contract("acme-support")
	if vendor == nil {
		t.Fatal("contract acme-support missing")
	}
	if vendor.Kind != "vendor" || vendor.Party != "Acme Support Ltd" {
		t.Errorf("kind, party = %s, %s; want vendor, Acme Support Ltd", vendor.Kind, vendor.Party)
	}
	if stages := vendor.Stages(); len(stages) != 2 {
		t.Errorf("%d stages, want 2", len(stages))
	}
	if !vendor.Request.MatchTicket("SUP-1234") || vendor.Request.MatchTicket("INC-1") {
		t.Error("ticket pattern does not accept SUP-1234 only")
	}
	if h := vendor.Window.Hours; h == nil || h.TimeZone != "Europe/Berlin" {
		t.Errorf("hours = %+v, want Europe/Berlin", h)
	}
	if vendor.Window.Extensions == nil || vendor.BreakGlass == nil {
		t.Error("extensions or break_glass missing")
	}
	if vendor.Retention.Events != Duration(400*day) || vendor.Retention.Recordings != Duration(400*day) {
		t.Errorf("retention = %v, %v; want 400d", vendor.Retention.Events, vendor.Retention.Recordings)
	}
	for _, id := range []string{"pci-dss:8.2.7", "soc2:CC6.1"} {
		if !slices.Contains(vendor.Compliance, id) {
			t.Errorf("compliance lacks %s", id)
		}
	}

	internal := 0
	for _, c := range cfg.Contracts {
		if c.Kind == "internal" {
			internal++
		}
	}
	if internal == 0 {
		t.Error("no internal contract")
	}

	var formats []string
	for _, w := range cfg.Webhooks {
		formats = append(formats, w.Format)
	}
	if !slices.Contains(formats, "json") || !slices.Contains(formats, "slack") {
		t.Errorf("webhook formats = %v, want json and slack", formats)
	}
}
