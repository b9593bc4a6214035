package configs

import (
	"errors"
	"strings"
	"testing"
)

// baseYAML is a small valid config that rejection cases edit. Its users are
// alice (a requester) and bob and carol (approvers).
const baseYAML = `listen:
  web: 127.0.0.1:8080
identities:
  users:
    - name: alice
      groups: [engineers]
    - name: bob
      groups: [approvers]
    - name: carol
      groups: [approvers]
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:2201
      host_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJWZ3zFonzoa11JK9f0TPZbCpkBA5x7CwGjqfpj3bnH web-1]
      logins: [deploy]
  postgres:
    - name: app
      address: 127.0.0.1:5432
      admin_user: postgres
      roles: [readonly, readwrite]
contracts:
  - id: base
    party: Test team
    kind: internal
    effective: 2026-01-01
    expires: 2026-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [deploy]
      - target: app
        roles: [readonly]
    approval:
      approvers:
        groups: [approvers]
      quorum: 1
    window:
      max: 4h
webhooks:
  - name: hook
    url: https://hooks.example.com/jitgate
    secret_file: hook.secret
`

// marker ends the line that an expected error points at.
const marker = "#<"

// edit replaces old, which must occur exactly once, with new.
type edit struct{ old, new string }

func applyEdits(t *testing.T, text string, edits []edit) string {
	t.Helper()
	for _, e := range edits {
		if n := strings.Count(text, e.old); n != 1 {
			t.Fatalf("edit target %q occurs %d times in the config, expected once", e.old, n)
		}
		text = strings.Replace(text, e.old, e.new, 1)
	}
	return text
}

// markedLine returns the 1-based line that contains the marker.
func markedLine(t *testing.T, text string) int {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, marker) {
			return i + 1
		}
	}
	t.Fatal("the config has no " + marker + " marker")
	return 0
}

// parseText parses text as the file test.yaml.
func parseText(t *testing.T, text string) (*Config, error) {
	t.Helper()
	return Parse("test.yaml", []byte(text))
}

// findFieldError returns the error at path, failing the test when there
// is none.
func findFieldError(t *testing.T, err error, path string) *FieldError {
	t.Helper()
	if err == nil {
		t.Fatalf("Parse succeeded, expected an error at %s", path)
	}
	var first *FieldError
	if !errors.As(err, &first) {
		t.Fatalf("error %v holds no *FieldError", err)
	}
	for _, fe := range FieldErrors(err) {
		if fe.Path == path {
			return fe
		}
	}
	t.Fatalf("no error at %s; errors:\n%v", path, err)
	return nil
}

// mustParse parses text and fails the test on any error.
func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	cfg, err := parseText(t, text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}
