package configs

import (
	"strings"
	"testing"
)

const secondContract = `  - id: second
    party: Test team
    kind: internal
    effective: 2026-01-01
    expires: 2026-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [deploy]
    approval:
      approvers:
        users: [bob]
    window:
      max: 1h
webhooks:`

const stagesApproval = `    approval:
      stages:
        - name: manager
          approvers:
            users: [bob]
        - name: owner
          approvers:
            groups: [approvers]
          quorum: 3 #<
    window:`

var (
	scopeSSH       = "- target: web-1\n        logins: [deploy]\n      - target: app"
	scopeRoles     = "        roles: [readonly]\n    approval:"
	approvalBlock  = "    approval:\n      approvers:\n        groups: [approvers]\n      quorum: 1\n"
	windowBlock    = "    window:\n      max: 4h\n"
	withHours      = func(hours string) edit { return edit{windowBlock, windowBlock + "      hours:\n" + hours} }
	afterWindow    = func(text string) edit { return edit{windowBlock, windowBlock + text} }
	webhookBlock   = "    secret_file: hook.secret\n"
	afterWebhook   = func(text string) edit { return edit{webhookBlock, webhookBlock + text} }
	userAlice      = "    - name: alice\n      groups: [engineers]\n"
	afterAlice     = func(text string) edit { return edit{userAlice, userAlice + text} }
	contractHeader = "  - id: base\n"
)

// TestValidationRejects checks one rejection per rule: the error names the
// marked line and the key path, and its message contains the fragment.
func TestValidationRejects(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		// Scope
		{"scope unknown target", []edit{{"- target: web-1\n", "- target: web-9 #<\n"}},
			"contracts[0].scope[0].target", `target "web-9" is not defined`},
		{"scope login not on target", []edit{{scopeSSH, "- target: web-1\n        logins: [root] #<\n      - target: app"}},
			"contracts[0].scope[0].logins[0]", `"root" is not one of the logins that target web-1 lists`},
		{"scope role not on target", []edit{{scopeRoles, "        roles: [admin] #<\n    approval:"}},
			"contracts[0].scope[1].roles[0]", `"admin" is not one of the roles`},
		{"scope logins on postgres target", []edit{{scopeRoles, "        roles: [readonly]\n        logins: [deploy] #<\n    approval:"}},
			"contracts[0].scope[1].logins", "app is a Postgres target, which takes roles, not logins"},
		{"scope roles on ssh target", []edit{{scopeSSH, "- target: web-1\n        logins: [deploy]\n        roles: [readonly] #<\n      - target: app"}},
			"contracts[0].scope[0].roles", "web-1 is an SSH target, which takes logins, not roles"},
		{"scope missing logins", []edit{{scopeSSH, "- target: web-1 #<\n      - target: app"}},
			"contracts[0].scope[0].logins", "missing; list the logins of web-1"},
		{"scope target twice", []edit{{scopeRoles, "        roles: [readonly]\n      - target: app #<\n        roles: [readwrite]\n    approval:"}},
			"contracts[0].scope[2].target", `"app" is already used by contracts[0].scope[1].target`},

		// Duplicates
		{"duplicate user name", []edit{{"- name: carol", "- name: bob #<"}},
			"identities.users[2].name", `"bob" is already used by identities.users[1].name (line 7)`},
		{"duplicate target across kinds", []edit{{"- name: app\n", "- name: web-1 #<\n"}},
			"targets.postgres[0].name", `"web-1" is already used by targets.ssh[0].name`},
		{"duplicate contract id", []edit{{"webhooks:", strings.Replace(secondContract, "id: second", "id: base #<", 1)}},
			"contracts[1].id", `"base" is already used by contracts[0].id`},
		{"duplicate webhook name", []edit{afterWebhook("  - name: hook #<\n    url: https://hooks.example.com/other\n    format: slack\n")},
			"webhooks[1].name", `"hook" is already used by webhooks[0].name`},
		{"duplicate stage name", []edit{{approvalBlock + "    window:", strings.NewReplacer("quorum: 3 #<", "quorum: 1", "- name: owner", "- name: manager #<").Replace(stagesApproval)}},
			"contracts[0].approval.stages[1].name", `"manager" is already used by contracts[0].approval.stages[0].name`},
		{"duplicate api token", []edit{afterAlice("      api_tokens: [sha256:bba775a1794a2ccaa524798e32cea98187c9a32d80433d760a92d449bfddff66]\n"), {"- name: bob\n      groups: [approvers]\n", "- name: bob\n      groups: [approvers]\n      api_tokens: [sha256:bba775a1794a2ccaa524798e32cea98187c9a32d80433d760a92d449bfddff66] #<\n"}},
			"identities.users[1].api_tokens[0]", "the token hash is already used by identities.users[0].api_tokens[0]"},

		// Approval
		{"quorum exceeds approvers", []edit{{"quorum: 1", "quorum: 3 #<"}},
			"contracts[0].approval.quorum", "3 exceeds the 2 approvers who can approve (bob, carol); lower the quorum or add approvers"},
		{"quorum exceeds zero approvers", []edit{{"groups: [approvers]\n      quorum: 1", "groups: [nobody]\n      quorum: 1 #<"}},
			"contracts[0].approval.quorum", "1 exceeds the 0 approvers who can approve"},
		{"quorum zero", []edit{{"quorum: 1", "quorum: 0 #<"}},
			"contracts[0].approval.quorum", "0 is less than 1"},
		{"quorum negative", []edit{{"quorum: 1", "quorum: -2 #<"}},
			"contracts[0].approval.quorum", "-2 is less than 1"},
		{"stage quorum exceeds approvers", []edit{{approvalBlock + "    window:", stagesApproval}},
			"contracts[0].approval.stages[1].quorum", "3 exceeds the 2 approvers who can approve (bob, carol)"},
		{"stages together with approvers", []edit{{"      quorum: 1\n", "      quorum: 1\n      stages: #<\n        - name: extra\n          approvers: {users: [bob]}\n"}},
			"contracts[0].approval.stages", "stages are set together with approvers or quorum"},
		{"approvers missing", []edit{{approvalBlock, "    approval: #<\n      pending_ttl: 10m\n"}},
			"contracts[0].approval.approvers", "missing; name who approves"},
		{"self approval leaves too few", []edit{{"requesters:\n      groups: [engineers]", "requesters:\n      groups: [engineers, approvers]"}, {"quorum: 1", "quorum: 2 #<"}},
			"contracts[0].approval.quorum", "2 cannot be met for requests by bob, carol: self_approval is forbidden"},
		{"pending ttl zero", []edit{{"      quorum: 1\n", "      quorum: 1\n      pending_ttl: 0s #<\n"}},
			"contracts[0].approval.pending_ttl", "0s would let every request lapse"},
		{"self approval unknown", []edit{{"      quorum: 1\n", "      quorum: 1\n      self_approval: sometimes #<\n"}},
			"contracts[0].approval.self_approval", `"sometimes" is not a valid value; use one of forbidden, allowed`},

		// Contract identity and dates
		{"kind unknown", []edit{{"kind: internal", "kind: vendr #<"}},
			"contracts[0].kind", `"vendr" is not a valid value; use one of vendor, partner, internal (did you mean "vendor"?)`},
		{"kind missing", []edit{{"    kind: internal\n", ""}, {contractHeader, "  - id: base #<\n"}},
			"contracts[0].kind", "missing; add kind: vendor, partner or internal"},
		{"id invalid", []edit{{"- id: base", "- id: base contract #<"}},
			"contracts[0].id", `"base contract" contains characters other than`},
		{"dates reversed", []edit{{"expires: 2026-12-31", "expires: 2025-12-31 #<"}},
			"contracts[0].expires", "2025-12-31 is before effective 2026-01-01"},
		{"expires missing", []edit{{"    expires: 2026-12-31\n", ""}, {"- id: base", "- id: base #<"}},
			"contracts[0].expires", "missing; add the last day"},
		{"requesters missing", []edit{{"    requesters:\n      groups: [engineers]\n", ""}, {"- id: base", "- id: base #<"}},
			"contracts[0].requesters", "missing; name who may request"},

		// Window
		{"default longer than max", []edit{afterWindow("      default: 5h #<\n")},
			"contracts[0].window.default", "5h is longer than max 4h"},
		{"max missing", []edit{{windowBlock, "    window: #<\n      idle_timeout: 5m\n"}},
			"contracts[0].window.max", "missing or 0"},
		{"max zero", []edit{{"max: 4h", "max: 0s #<"}},
			"contracts[0].window.max", "missing or 0"},
		{"max sessions negative", []edit{afterWindow("      max_sessions: -1 #<\n")},
			"contracts[0].window.max_sessions", "-1 is negative"},
		{"hours from malformed", []edit{withHours("        from: \"8:00\" #<\n")},
			"contracts[0].window.hours.from", `"8:00" is not a time of day; write HH:MM`},
		{"hours to before from", []edit{withHours("        from: \"10:00\"\n        to: \"09:00\" #<\n")},
			"contracts[0].window.hours.to", "09:00 is not after from 10:00"},
		{"hours to equals from", []edit{withHours("        from: \"10:00\"\n        to: \"10:00\" #<\n")},
			"contracts[0].window.hours.to", "10:00 is not after from 10:00"},
		{"hours unknown day", []edit{withHours("        days: [mon, funday] #<\n")},
			"contracts[0].window.hours.days[1]", `"funday" is not a valid value`},
		{"hours capitalized day", []edit{withHours("        days: [Mon] #<\n")},
			"contracts[0].window.hours.days[0]", `(did you mean "mon"?)`},
		{"hours empty days", []edit{withHours("        days: [] #<\n")},
			"contracts[0].window.hours.days", "the list is empty"},
		{"hours unknown time zone", []edit{withHours("        time_zone: Mars/Olympus #<\n")},
			"contracts[0].window.hours.time_zone", `"Mars/Olympus" is not a known time zone`},
		{"hours local time zone", []edit{withHours("        time_zone: Local #<\n")},
			"contracts[0].window.hours.time_zone", "depends on the server's settings"},
		{"extensions count zero", []edit{afterWindow("      extensions:\n        max_count: 0 #<\n")},
			"contracts[0].window.extensions.max_count", "0 allows no extensions"},
		{"extensions total below each", []edit{afterWindow("      extensions:\n        max_each: 2h\n        max_total: 1h #<\n")},
			"contracts[0].window.extensions.max_total", "1h is shorter than max_each 2h"},

		// Request rules
		{"ticket pattern invalid", []edit{afterWindow("    request:\n      ticket_pattern: ^(INC-[0-9]+$ #<\n")},
			"contracts[0].request.ticket_pattern", `"^(INC-[0-9]+$" is not a valid Go regular expression`},
		{"reason min length negative", []edit{afterWindow("    request:\n      reason_min_length: -3 #<\n")},
			"contracts[0].request.reason_min_length", "-3 is negative"},

		// Break-glass
		{"break glass without max window", []edit{afterWindow("    break_glass: #<\n      requesters: {groups: [engineers]}\n      review_within: 24h\n")},
			"contracts[0].break_glass.max_window", "missing or 0"},
		{"break glass without review", []edit{afterWindow("    break_glass: #<\n      requesters: {groups: [engineers]}\n      max_window: 1h\n")},
			"contracts[0].break_glass.review_within", "missing or 0"},
		{"break glass without requesters", []edit{afterWindow("    break_glass: #<\n      max_window: 1h\n      review_within: 24h\n")},
			"contracts[0].break_glass.requesters", "missing; name who may grant themselves access"},
		{"break glass reviewers unknown", []edit{afterWindow("    break_glass:\n      requesters: {groups: [engineers]}\n      max_window: 1h\n      review_within: 24h\n      reviewers: {groups: [ghosts]} #<\n")},
			"contracts[0].break_glass.reviewers", "no user in identities.users is a reviewer"},

		// Recording
		{"recording ssh unknown", []edit{afterWindow("    recording:\n      ssh: everything #<\n")},
			"contracts[0].recording.ssh", `"everything" is not a valid value; use one of off, output, output+input`},
		{"recording postgres unknown", []edit{afterWindow("    recording:\n      postgres: all #<\n")},
			"contracts[0].recording.postgres", `"all" is not a valid value; use one of off, queries`},
		{"recording parameters unknown", []edit{afterWindow("    recording:\n      parameters: masked #<\n")},
			"contracts[0].recording.parameters", `"masked" is not a valid value; use one of off, on, redacted`},
		{"recording redact invalid", []edit{afterWindow("    recording:\n      redact: ['secret=(\\S+'] #<\n")},
			"contracts[0].recording.redact[0]", "is not a valid Go regular expression"},

		// Retention and compliance
		{"retention below pci-dss", []edit{afterWindow("    retention:\n      events: 90d #<\n    compliance: [pci-dss:8.2.7]\n")},
			"contracts[0].retention.events", "90d is shorter than the pci-dss minimum of 365d"},
		{"recordings retention below hipaa", []edit{afterWindow("    retention:\n      events: 2190d\n      recordings: 400d #<\n    compliance: [pci-dss:8.2.7, hipaa:164.312(b)]\n")},
			"contracts[0].retention.recordings", "400d is shorter than the hipaa minimum of 2190d"},
		{"retention explicit zero with pci-dss", []edit{afterWindow("    retention:\n      events: 0s #<\n    compliance: [pci-dss:10.5.1]\n")},
			"contracts[0].retention.events", "0s is shorter than the pci-dss minimum of 365d"},
		{"compliance unknown framework", []edit{afterWindow("    compliance: [soc2:CC6.1, gdpr:32] #<\n")},
			"contracts[0].compliance[1]", `"gdpr:32" is not a compliance id`},
		{"compliance without control", []edit{afterWindow("    compliance: [\"soc2:\"] #<\n")},
			"contracts[0].compliance[0]", `"soc2:" is not a compliance id`},

		// Identities
		{"user ssh key malformed", []edit{afterAlice("      ssh_keys: [ssh-ed25519 AAAAnotakey alice] #<\n")},
			"identities.users[0].ssh_keys[0]", "is not an authorized_keys line"},
		{"user ssh key with options", []edit{afterAlice("      ssh_keys: ['from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJWZ3zFonzoa11JK9f0TPZbCpkBA5x7CwGjqfpj3bnH a'] #<\n")},
			"identities.users[0].ssh_keys[0]", "key options from=\"10.0.0.1\" are not supported"},
		{"user token hash malformed", []edit{afterAlice("      api_tokens: [sha256:abc123] #<\n")},
			"identities.users[0].api_tokens[0]", `"sha256:abc123" is not a token hash`},
		{"user token hash uppercase", []edit{afterAlice("      api_tokens: [sha256:BBA775A1794A2CCAA524798E32CEA98187C9A32D80433D760A92D449BFDDFF66] #<\n")},
			"identities.users[0].api_tokens[0]", "64 lowercase hex digits"},
		{"user password hash malformed", []edit{afterAlice("      password_hash: hunter2 #<\n")},
			"identities.users[0].password_hash", "not a bcrypt hash"},
		{"user name missing", []edit{{"    - name: alice\n      groups", "    - email: alice@example.com #<\n      groups"}},
			"identities.users[0].name", "missing; add the user's login name"},

		// Targets
		{"target tls unknown", []edit{{"      admin_user: postgres\n", "      admin_user: postgres\n      tls: prefer #<\n"}},
			"targets.postgres[0].tls", `"prefer" is not a valid value; use one of disable, require, verify-full`},
		{"target address invalid", []edit{{"address: 127.0.0.1:2201", "address: web-1.example.com #<"}},
			"targets.ssh[0].address", `"web-1.example.com" is not a host:port address`},
		{"target host key missing", []edit{{"      host_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJWZ3zFonzoa11JK9f0TPZbCpkBA5x7CwGjqfpj3bnH web-1]\n", ""}, {"- name: web-1", "- name: web-1 #<"}},
			"targets.ssh[0]", "has no way to verify its host key"},
		{"target admin user missing", []edit{{"      admin_user: postgres\n", ""}, {"- name: app", "- name: app #<"}},
			"targets.postgres[0].admin_user", "missing; add the role that creates temporary roles"},

		// Server
		{"state driver unknown", []edit{{"listen:\n", "state:\n  driver: mysql #<\nlisten:\n"}},
			"state.driver", `"mysql" is not a valid value; use one of sqlite, postgres`},
		{"state postgres not built", []edit{{"listen:\n", "state:\n  driver: postgres #<\nlisten:\n"}},
			"state.driver", "postgres is not supported yet"},
		{"log level unknown", []edit{{"listen:\n", "log:\n  level: verbose #<\nlisten:\n"}},
			"log.level", `"verbose" is not a valid value`},
		{"public url not http", []edit{{"listen:\n", "public_url: ftp://jitgate.example.com #<\nlisten:\n"}},
			"public_url", `"ftp://jitgate.example.com" is not an http or https URL`},
		{"postgres listener without tls", []edit{{"  web: 127.0.0.1:8080\n", "  web: 127.0.0.1:8080\n  postgres: 127.0.0.1:6432\npostgres: #<\n  max_connections_per_source: 5\n"}},
			"postgres.tls", "missing for listen.postgres"},
		{"ssh cipher unknown", []edit{{"listen:\n", "ssh:\n  ciphers: [arcfour] #<\nlisten:\n"}},
			"ssh.ciphers[0]", `"arcfour" is not a valid value`},
		{"ssh ciphers empty", []edit{{"listen:\n", "ssh:\n  ciphers: [] #<\nlisten:\n"}},
			"ssh.ciphers", "the list is empty"},
		{"warn before zero", []edit{{"listen:\n", "sessions:\n  warn_before: [5m, 0s] #<\nlisten:\n"}},
			"sessions.warn_before[1]", "0s is not a time before the window end"},

		// Webhooks
		{"webhook format unknown", []edit{afterWebhook("    format: xml #<\n")},
			"webhooks[0].format", `"xml" is not a valid value; use one of json, slack`},
		{"webhook event unknown", []edit{afterWebhook("    events: [request.created, request.exploded] #<\n")},
			"webhooks[0].events[1]", `"request.exploded" is not a valid value`},
		{"webhook events empty", []edit{afterWebhook("    events: [] #<\n")},
			"webhooks[0].events", "the list is empty"},
		{"webhook url not http", []edit{{"url: https://hooks.example.com/jitgate", "url: mailto:ops@example.com #<"}},
			"webhooks[0].url", `"mailto:ops@example.com" is not an http or https URL`},
		{"webhook json without secret", []edit{{webhookBlock, ""}, {"  - name: hook", "  - name: hook #<"}},
			"webhooks[0].secret_file", "missing, and format json signs every body"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := applyEdits(t, baseYAML, tt.edits)
			_, err := parseText(t, text)
			fe := findFieldError(t, err, tt.path)

			if want := markedLine(t, text); fe.Line != want {
				t.Errorf("line = %d, want %d (%v)", fe.Line, want, fe)
			}
			if fe.File != "test.yaml" {
				t.Errorf("file = %q, want test.yaml", fe.File)
			}
			if !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", fe.Msg, tt.msg)
			}
		})
	}
}

// TestValidationAccepts checks configs that look unusual but are valid.
func TestValidationAccepts(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
	}{
		{"base config", nil},
		{"ticket required without pattern", []edit{afterWindow("    request:\n      ticket_required: true\n")}},
		{"break glass longer than window max", []edit{afterWindow("    break_glass:\n      requesters: {groups: [engineers]}\n      max_window: 12h\n      review_within: 24h\n")}},
		{"retention at pci-dss minimum", []edit{afterWindow("    retention:\n      events: 365d\n      recordings: 52w1d\n    compliance: [pci-dss:8.2.7]\n")}},
		{"retention zero without frameworks", []edit{afterWindow("    retention:\n      events: 0s\n")}},
		{"hours until midnight", []edit{withHours("        from: \"18:00\"\n        to: \"24:00\"\n        time_zone: Europe/Berlin\n")}},
		{"self approval allowed with single approver", []edit{{"requesters:\n      groups: [engineers]", "requesters:\n      groups: [engineers, approvers]"}, {"quorum: 1", "quorum: 2\n      self_approval: allowed"}}},
		{"slack webhook without secret", []edit{{webhookBlock, "    format: slack\n"}}},
		{"postgres listener on loopback with insecure option", []edit{{"  web: 127.0.0.1:8080\n", "  web: 127.0.0.1:8080\n  postgres: 127.0.0.1:6432\npostgres:\n  insecure_allow_plaintext_on_loopback: true\n"}}},
		{"service role instead of admin user", []edit{{"      admin_user: postgres\n", "      service_role:\n        user: support\n        password_file: support.password\n"}}},
		{"anchor and merge key", []edit{{"    window:\n      max: 4h\n", "    window: &w\n      max: 4h\n"}, {"webhooks:", "  - <<: &c {party: Other team, kind: partner}\n    id: merged\n    effective: 2026-01-01\n    expires: 2026-06-30\n    requesters: {users: [alice]}\n    scope: [{target: app, roles: [readwrite]}]\n    approval: {approvers: {users: [bob]}}\n    window: *w\nwebhooks:"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustParse(t, applyEdits(t, baseYAML, tt.edits))
		})
	}
}

// TestValidationReportsAllInFileOrder checks that several problems are
// reported together and sorted by line.
func TestValidationReportsAllInFileOrder(t *testing.T) {
	text := applyEdits(t, baseYAML, []edit{
		{"- name: carol", "- name: bob"},
		{"kind: internal", "kind: vendr"},
		{"quorum: 1", "quorum: 5"},
		{"secret_file: hook.secret", "format: xml"},
	})
	_, err := parseText(t, text)
	list := FieldErrors(err)
	if len(list) != 4 {
		t.Fatalf("got %d errors, want 4:\n%v", len(list), err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Line < list[i-1].Line {
			t.Errorf("error %d (line %d) comes after line %d", i, list[i].Line, list[i-1].Line)
		}
	}
	wantPaths := []string{"identities.users[2].name", "contracts[0].kind", "contracts[0].approval.quorum", "webhooks[0].format"}
	for i, want := range wantPaths {
		if list[i].Path != want {
			t.Errorf("error %d path = %s, want %s", i, list[i].Path, want)
		}
	}
}
