package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDecodeRejects checks errors found while decoding, before defaults
// and validation run.
func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		{"unknown key with suggestion", []edit{{"    approval:\n", "    aproval: #<\n"}},
			"contracts[0].aproval", `unknown key "aproval"; did you mean "approval"?`},
		{"unknown key in other case", []edit{{"listen:\n", "publicURL: https://jitgate.example.com #<\nlisten:\n"}},
			"publicURL", `did you mean "public_url"?`},
		{"unknown key without suggestion", []edit{{"  web: 127.0.0.1:8080\n", "  web: 127.0.0.1:8080\n  grpc: 127.0.0.1:9090 #<\n"}},
			"listen.grpc", `unknown key "grpc"; the keys allowed here are web, ssh, postgres`},
		{"key written twice", []edit{{"kind: internal\n", "kind: internal\n    kind: vendor #<\n"}},
			"contracts[0].kind", "key is written twice, first at line 25"},
		{"scalar where list expected", []edit{{"logins: [deploy]\n  postgres", "logins: deploy #<\n  postgres"}},
			"targets.ssh[0].logins", `expected a list, found "deploy"`},
		{"list where text expected", []edit{{"party: Test team", "party: [a, b] #<"}},
			"contracts[0].party", "expected a text value, found a list"},
		{"text where number expected", []edit{{"quorum: 1", "quorum: two #<"}},
			"contracts[0].approval.quorum", `expected a whole number, found "two"; write a number such as 3`},
		{"text where bool expected", []edit{afterWindow("    request:\n      reason_required: yes #<\n")},
			"contracts[0].request.reason_required", `expected true or false, found "yes"`},
		{"scalar where mapping expected", []edit{{"    window:\n      max: 4h\n", "    window: 4h #<\n"}},
			"contracts[0].window", `expected a mapping with keys such as default, max, hours, found "4h"`},
		{"duration garbage", []edit{{"max: 4h", "max: 4 hours #<"}},
			"contracts[0].window.max", `"4 hours" is not a duration; write a number and a unit`},
		{"duration negative", []edit{{"max: 4h", "max: -4h #<"}},
			"contracts[0].window.max", `"-4h" is negative`},
		{"duration without unit", []edit{{"max: 4h", "max: 30 #<"}},
			"contracts[0].window.max", `"30" is not a duration`},
		{"date malformed", []edit{{"expires: 2026-12-31", "expires: 31.12.2026 #<"}},
			"contracts[0].expires", `"31.12.2026" is not a date; write YYYY-MM-DD`},
		{"date impossible", []edit{{"expires: 2026-12-31", "expires: 2026-02-30 #<"}},
			"contracts[0].expires", `"2026-02-30" is not a date`},
		{"date with time", []edit{{"expires: 2026-12-31", "expires: 2026-12-31T10:00:00Z #<"}},
			"contracts[0].expires", "is not a date"},
		{"key that is a list", []edit{{"listen:\n", "[a, b]: c #<\nlisten:\n"}},
			"", "a key is a list; keys must be plain names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := applyEdits(t, baseYAML, tt.edits)
			_, err := parseText(t, text)
			fe := findFieldError(t, err, tt.path)
			if want := markedLine(t, text); fe.Line != want {
				t.Errorf("line = %d, want %d (%v)", fe.Line, want, fe)
			}
			if !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", fe.Msg, tt.msg)
			}
		})
	}
}

// TestDecodeRejectsDocuments checks problems with the file as a whole.
func TestDecodeRejectsDocuments(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		msg  string
	}{
		{"unclosed bracket", "listen:\n  web: [127.0.0.1:8080\nlog: {}\n", 2, "invalid YAML: did not find expected ',' or ']'"},
		{"unclosed bracket on first line", "log: [info\nlisten: {}\n", 2, "invalid YAML: did not find expected ',' or ']'"},
		{"bad indentation", "listen:\n  web: 127.0.0.1:8080\nlog:\n  - x\n - y\n", 5, "invalid YAML: did not find expected key"},
		{"colon in value", "log:\n  level: info: debug\n", 2, "invalid YAML: mapping values are not allowed in this context"},
		{"tab indentation", "listen:\n\tweb: 127.0.0.1:8080\n", 2, "invalid YAML: found character that cannot start any token"},
		{"second document", "log: {level: info}\n---\nlog: {level: debug}\n", 2, "a second YAML document starts here"},
		{"top level list", "- listen\n- log\n", 1, "expected a mapping with keys such as public_url, listen, web, found a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseText(t, tt.text)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v holds no *FieldError", err)
			}
			if fe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, tt.line, fe)
			}
			if !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", fe.Msg, tt.msg)
			}
		})
	}
}

// TestDecodeStopsAliasExpansion feeds a "billion laughs" file: each merge
// key repeats the previous mapping 10 times, so the last contract expands
// to 10^8 mappings. Decoding must stop at the budget and report it.
func TestDecodeStopsAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("contracts:\n  - &c0 {id: x, party: p}\n")
	for level := 1; level <= 8; level++ {
		previous := fmt.Sprintf("*c%d", level-1)
		fmt.Fprintf(&b, "  - &c%d {<<: [%s]}\n", level, strings.TrimSuffix(strings.Repeat(previous+", ", 10), ", "))
	}

	start := time.Now()
	_, err := parseText(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("error = %v, want the alias expansion limit", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Parse took %v, want the budget to stop it early", elapsed)
	}
}

func TestParseEmptyFileGetsDefaults(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "---\n"} {
		cfg := mustParse(t, text)
		if cfg.Listen.Web != defaultWebListen {
			t.Errorf("%q: listen.web = %q, want %q", text, cfg.Listen.Web, defaultWebListen)
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  FieldError
		want string
	}{
		{"all parts", FieldError{File: "demo.yaml", Line: 42, Path: "contracts[1].approval.quorum", Msg: "3 exceeds"}, "demo.yaml:42: contracts[1].approval.quorum: 3 exceeds"},
		{"no path", FieldError{File: "demo.yaml", Line: 3, Msg: "invalid YAML"}, "demo.yaml:3: invalid YAML"},
		{"no line", FieldError{File: "demo.yaml", Path: "log", Msg: "bad"}, "demo.yaml: log: bad"},
		{"no file", FieldError{Line: 7, Path: "log", Msg: "bad"}, "line 7: log: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want fs.ErrNotExist", err)
	}
}

// TestLoadResolvesRelativePaths loads a config from another folder than
// the working directory and checks that files resolve beside it.
func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	text := applyEdits(t, baseYAML, []edit{
		{"listen:\n", "recordings:\n  dir: rec\nlisten:\n"},
		{"admin_user: postgres\n", "admin_user: postgres\n      admin_password_file: secrets/admin.password\n"},
		{"secret_file: hook.secret", "secret_file: /etc/jitgate/hook.secret"},
	})
	path := filepath.Join(dir, "jitgate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"state.path", cfg.State.Path, filepath.Join(dir, "jitgate.db")},
		{"recordings.dir", cfg.Recordings.Dir, filepath.Join(dir, "rec")},
		{"ssh.host_key_file", cfg.SSH.HostKeyFile, filepath.Join(dir, "ssh_host_ed25519_key")},
		{"admin_password_file", cfg.Targets.Postgres[0].AdminPasswordFile, filepath.Join(dir, "secrets", "admin.password")},
		{"absolute secret_file", cfg.Webhooks[0].SecretFile, "/etc/jitgate/hook.secret"},
		{"Path", cfg.Path, path},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}
