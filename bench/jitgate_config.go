package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/localtarget"
)

// The people in the benchmark config. Each workload that needs its own
// grants uses its own requester, so a long grant of one workload never
// lets another workload's connections skip the hold.
const (
	personThroughput = "alice" // pgbench and SSH transfers, one long grant
	personApproval   = "carol" // approval to first byte
	personWindowEnd  = "dave"  // window end to closed, Postgres
	// personSSHWindowEnd has an SSH key of its own, because the config
	// rejects a public key listed for two people.
	personSSHWindowEnd = "erin" // window end to closed, SSH
	personApprover     = "bob"
)

// Target names in the benchmark config.
const (
	pgTargetName  = "bench"
	sshTargetName = "host-1"
)

// jitgatePorts are the listeners of the benchmark's jitgate.
type jitgatePorts struct {
	web, postgres, ssh int
}

// jitgateSetup holds what the config names and the harness needs again.
type jitgateSetup struct {
	dir        string
	configPath string
	ports      jitgatePorts
	tokens     map[string]string // person -> API token
	sshLogin   string
	// sshWindowEndSigner is personSSHWindowEnd's SSH key.
	sshWindowEndSigner ssh.Signer
}

var jitgateConfigTemplate = template.Must(template.New("jitgate").Parse(`# Written by jitgate's benchmark harness. Everything listens on 127.0.0.1.
public_url: "http://127.0.0.1:{{.Ports.web}}"
listen:
  web: "127.0.0.1:{{.Ports.web}}"
  postgres: "127.0.0.1:{{.Ports.postgres}}"
{{- if .SSH}}
  ssh: "127.0.0.1:{{.Ports.ssh}}"
{{- end}}
state:
  path: "{{.Dir}}/jitgate.db"
recordings:
  dir: "{{.Dir}}/recordings"
ssh:
  host_key_file: "{{.Dir}}/ssh_host_ed25519_key"
  user_ca_key_file: "{{.Dir}}/ssh_user_ca"
  # The memory workload opens many sessions from 127.0.0.1 at once.
  max_unauthenticated_per_source: 100
postgres:
  # The benchmark paths run without TLS, so only the proxying differs,
  # except the TLS workload, whose clients require it.
  insecure_allow_plaintext_on_loopback: true
  tls:
    self_signed: true
  max_connections_per_source: {{.MaxPerSource}}

identities:
  users:
{{- range .People}}
    - name: {{.Name}}
      groups: [{{.Group}}]
      api_tokens: ["{{.TokenHash}}"]
{{- if .SSHKey}}
      ssh_keys: ["{{.SSHKey}}"]
{{- end}}
{{- end}}

targets:
  postgres:
    - name: {{.PGTarget}}
      address: "127.0.0.1:{{.PGPort}}"
      database: {{.PGDatabase}}
      admin_user: {{.AdminRole}}
      admin_password_file: "{{.Dir}}/pg-admin.pass"
      roles: [{{.GrantRole}}]
      tls: disable
{{- if .SSH}}
  ssh:
    - name: {{.SSHTarget}}
      address: "{{.SSHAddr}}"
      host_keys:
{{- range .SSHHostKeys}}
        - "{{.}}"
{{- end}}
      logins: ["{{.SSHLogin}}"]
{{- end}}

contracts:
  - id: bench
    version: 1
    party: Benchmark
    kind: internal
    effective: "2020-01-01"
    expires: "2099-12-31"
    description: The benchmark harness requests and approves its own access.
    requesters:
      groups: [engineers]
    scope:
      - target: {{.PGTarget}}
        roles: [{{.GrantRole}}]
{{- if .SSH}}
      - target: {{.SSHTarget}}
        logins: ["{{.SSHLogin}}"]
{{- end}}
    approval:
      approvers:
        groups: [approvers]
      quorum: 1
      pending_ttl: 10m
    window:
      default: 1h
      max: 12h
      max_sessions: 0
    # The defaults, written out: what a user gets without a recording section.
    recording:
      ssh: output
      postgres: queries
      parameters: redacted
    retention:
      events: 400d
      recordings: 400d
`))

type configPerson struct {
	Name, Group, TokenHash, SSHKey string
}

// writeJitgateConfig picks free ports, writes DIR/jitgate.yaml and the
// admin password file, and returns the setup.
func writeJitgateConfig(dir string, t *targets, idle int) (*jitgateSetup, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the jitgate folder: %w", err)
	}
	s := &jitgateSetup{dir: dir, configPath: filepath.Join(dir, "jitgate.yaml"), tokens: map[string]string{}}
	for _, port := range []*int{&s.ports.web, &s.ports.postgres, &s.ports.ssh} {
		n, err := localtarget.FreePort()
		if err != nil {
			return nil, err
		}
		*port = n
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate an SSH key for %s: %w", personSSHWindowEnd, err)
	}
	if s.sshWindowEndSigner, err = ssh.NewSignerFromKey(key); err != nil {
		return nil, fmt.Errorf("generate an SSH key for %s: %w", personSSHWindowEnd, err)
	}

	var people []configPerson
	for _, name := range []string{personThroughput, personApproval, personWindowEnd, personSSHWindowEnd, personApprover} {
		token := identity.NewToken()
		s.tokens[name] = token
		p := configPerson{Name: name, Group: "engineers", TokenHash: identity.HashToken(token)}
		if name == personApprover {
			p.Group = "approvers"
		}
		switch name {
		case personThroughput:
			p.SSHKey = t.publicKey
		case personSSHWindowEnd:
			p.SSHKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.sshWindowEndSigner.PublicKey())))
		}
		people = append(people, p)
	}
	if err := os.WriteFile(filepath.Join(dir, "pg-admin.pass"), []byte(t.adminPassword+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write the admin password file: %w", err)
	}

	data := map[string]any{
		"Ports":        map[string]int{"web": s.ports.web, "postgres": s.ports.postgres, "ssh": s.ports.ssh},
		"Dir":          dir,
		"SSH":          t.sshd != nil,
		"MaxPerSource": idle + 200,
		"People":       people,
		"PGTarget":     pgTargetName,
		"PGPort":       t.pg.Port,
		"PGDatabase":   benchDatabase,
		"AdminRole":    adminRole,
		"GrantRole":    grantRole,
		"SSHTarget":    sshTargetName,
	}
	if t.sshd != nil {
		s.sshLogin = t.sshd.Login
		data["SSHAddr"] = t.sshd.Addr
		data["SSHLogin"] = t.sshd.Login
		var keys []string
		for _, k := range t.sshd.HostKeys {
			keys = append(keys, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
		}
		data["SSHHostKeys"] = keys
	}
	var b strings.Builder
	if err := jitgateConfigTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render the jitgate config: %w", err)
	}
	if err := os.WriteFile(s.configPath, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("write the jitgate config: %w", err)
	}
	return s, nil
}
