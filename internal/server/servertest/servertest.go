// Package servertest writes jitgate config files for the tests of the API,
// the CLI and the server assembly. The config has four people with known
// API tokens, one SSH and two Postgres targets, and contracts that exercise
// single approval, a quorum of two, extensions and break-glass.
package servertest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
)

// The people of the test config.
const (
	Alice = "alice" // engineer: requests access
	Bob   = "bob"   // approver under every contract
	Carol = "carol" // engineer: requests, approves nothing
	Dave  = "dave"  // second approver, for the quorum of two
)

// Targets and contracts of the test config.
const (
	SSHTarget = "web-1"  // SSH host; login deploy under contract Ops
	PGTarget  = "orders" // Postgres server; role readonly under contract Ops
	// DualTarget is a Postgres server whose role auditor needs two approvals
	// under contract Dual.
	DualTarget = "ledger"
	Ops        = "ops"
	Dual       = "dual"
)

// Start is a time inside every contract's dates, for fake clocks.
var Start = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Token returns the API token of a person of the test config.
func Token(person string) string { return person + "-test-token" }

// Options adjusts the config that WriteConfig writes.
type Options struct {
	// Listen is listen.web. Default: 127.0.0.1:8080 in the file, which
	// Load replaces with 127.0.0.1:0 (a free port) after loading, because
	// the config file rejects port 0. `jitgate serve --listen` does the
	// same for a server run as a process.
	Listen string
	// StatePath is state.path. Default: jitgate.db beside the config.
	StatePath string
	// PendingTTL is the contracts' approval.pending_ttl. Default: 30m.
	PendingTTL string
}

// WriteConfig writes a valid config file into dir and returns its path.
func WriteConfig(t testing.TB, dir string, opts Options) string {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:8080"
	}
	if opts.StatePath == "" {
		opts.StatePath = "jitgate.db"
	}
	if opts.PendingTTL == "" {
		opts.PendingTTL = "30m"
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generating a host key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("encoding the host key: %v", err)
	}
	hostKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))

	text := fmt.Sprintf(configTemplate, opts.Listen, opts.StatePath,
		identity.HashToken(Token(Alice)), identity.HashToken(Token(Bob)),
		identity.HashToken(Token(Carol)), identity.HashToken(Token(Dave)),
		hostKey, opts.PendingTTL, opts.PendingTTL)
	path := filepath.Join(dir, "jitgate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("writing the test config: %v", err)
	}
	return path
}

// Load writes the config into dir and loads it as the server would. Without
// opts.Listen, listen.web becomes 127.0.0.1:0.
func Load(t testing.TB, dir string, opts Options) *configs.Config {
	t.Helper()
	path := WriteConfig(t, dir, opts)
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("loading the test config %s: %v", path, err)
	}
	if opts.Listen == "" {
		cfg.Listen.Web = "127.0.0.1:0"
	}
	return cfg
}

// configTemplate takes, in order: listen.web, state.path, the token hashes
// of alice, bob, carol and dave, the SSH host key, and the pending TTL of
// each of the two contracts.
const configTemplate = `
listen:
  web: %s
state:
  path: %s
log:
  format: text
identities:
  users:
    - name: alice
      groups: [engineers]
      api_tokens: [%s]
    - name: bob
      groups: [approvers]
      api_tokens: [%s]
    - name: carol
      groups: [engineers]
      api_tokens: [%s]
    - name: dave
      groups: [approvers]
      api_tokens: [%s]
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:2201
      host_keys: ["%s"]
      logins: [deploy, root]
  postgres:
    - name: orders
      address: 127.0.0.1:5432
      admin_user: postgres
      roles: [readonly]
      tls: disable
    - name: ledger
      address: 127.0.0.1:5432
      admin_user: postgres
      roles: [auditor]
      tls: disable
contracts:
  - id: ops
    version: 1
    party: Test operations team
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [deploy]
      - target: orders
        roles: [readonly]
    approval:
      approvers:
        groups: [approvers]
      pending_ttl: %s
    window:
      default: 30m
      max: 2h
      extensions:
        max_count: 1
        max_each: 1h
    break_glass:
      requesters:
        users: [alice]
      max_window: 1h
      review_within: 24h
      reviewers:
        groups: [approvers]
    retention:
      events: 400d
      recordings: 400d
    compliance: ["soc2:CC6.1"]
  - id: dual
    version: 1
    party: Test finance team
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: ledger
        roles: [auditor]
    approval:
      approvers:
        groups: [approvers]
      quorum: 2
      pending_ttl: %s
    window:
      max: 1h
`
