package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/localtarget"
)

type configInput struct {
	pg         *localtarget.Postgres
	sshd       *localtarget.SSHD
	people     *people
	maxWindow  time.Duration
	pendingTTL time.Duration
}

type ports struct {
	web, ssh, postgres int
}

// configTemplate is the demo's jitgate.yaml. Values are quoted where a
// YAML reader could misread them.
var configTemplate = template.Must(template.New("demo").Parse(`# jitgate demo configuration, written by ` + "`jitgate demo`" + `.
# Everything listens on 127.0.0.1. Secrets live in files beside this one.
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
postgres:
  tls:
    self_signed: true
sessions:
  warn_before: [5m, 1m]

identities:
  users:
    - name: alice
      email: alice@example.com
      groups: [engineers]
      ssh_keys: ["{{.AliceKey}}"]
      api_tokens: ["{{.AliceTokenHash}}"]
    - name: bob
      email: bob@example.com
      groups: [approvers]
      api_tokens: ["{{.BobTokenHash}}"]
      password_hash: "{{.BobPasswordHash}}"

targets:
  postgres:
    - name: app
      address: "127.0.0.1:{{.PGPort}}"
      database: app
      admin_user: jitgate_admin
      admin_password_file: "{{.Dir}}/pg-admin.pass"
      roles: [readonly, readwrite]
      tls: require
{{- if .SSH}}
  ssh:
    - name: web-1
      address: "{{.SSHAddr}}"
      host_keys:
{{- range .SSHHostKeys}}
        - "{{.}}"
{{- end}}
      logins: ["{{.SSHLogin}}"]
{{- end}}

contracts:
  - id: demo-access
    version: 1
    party: Demo Engineering
    kind: internal
    effective: "2020-01-01"
    expires: "2099-12-31"
    description: Engineers may reach the demo database and host after an approver agrees.
    requesters:
      groups: [engineers]
    # One role per target, so plain "dbname=app" needs no role choice. Add
    # readwrite here to try dbname=app@readwrite.
    scope:
      - target: app
        roles: [readonly]
{{- if .SSH}}
      - target: web-1
        logins: ["{{.SSHLogin}}"]
{{- end}}
    approval:
      approvers:
        groups: [approvers]
      quorum: 1
      pending_ttl: {{.PendingTTL}}
    window:
      default: {{.MaxWindow}}
      max: {{.MaxWindow}}
      max_sessions: 5
    recording:
      ssh: output+input
      postgres: queries
      parameters: redacted
    retention:
      events: 400d
      recordings: 400d
    compliance: ["soc2:CC6.1", "soc2:CC6.3"]
`))

// writeConfig picks free ports, writes DIR/jitgate.yaml and returns its
// path and the ports.
func writeConfig(dir string, in configInput) (string, ports, error) {
	var p ports
	for _, port := range []*int{&p.web, &p.ssh, &p.postgres} {
		n, err := localtarget.FreePort()
		if err != nil {
			return "", p, fmt.Errorf("demo: finding a free port: %w", err)
		}
		*port = n
	}
	bobHash, err := bcrypt.GenerateFromPassword([]byte(in.people.bobPassword), bcrypt.DefaultCost)
	if err != nil {
		return "", p, fmt.Errorf("demo: hashing bob's password: %w", err)
	}
	data := map[string]any{
		"Ports":           map[string]int{"web": p.web, "ssh": p.ssh, "postgres": p.postgres},
		"Dir":             dir,
		"SSH":             in.sshd != nil,
		"AliceKey":        strings.TrimSpace(string(ssh.MarshalAuthorizedKey(in.people.aliceKey))),
		"AliceTokenHash":  identity.HashToken(in.people.aliceToken),
		"BobTokenHash":    identity.HashToken(in.people.bobToken),
		"BobPasswordHash": string(bobHash),
		"PGPort":          in.pg.Port,
		"MaxWindow":       in.maxWindow.String(),
		"PendingTTL":      in.pendingTTL.String(),
	}
	if in.sshd != nil {
		data["SSHAddr"] = in.sshd.Addr
		data["SSHLogin"] = in.sshd.Login
		var keys []string
		for _, k := range in.sshd.HostKeys {
			keys = append(keys, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
		}
		data["SSHHostKeys"] = keys
	}
	path := filepath.Join(dir, "jitgate.yaml")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", p, fmt.Errorf("demo: writing the config: %w", err)
	}
	defer f.Close()
	if err := configTemplate.Execute(f, data); err != nil {
		return "", p, fmt.Errorf("demo: writing the config: %w", err)
	}
	return path, p, nil
}
