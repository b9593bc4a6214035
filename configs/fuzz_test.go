package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, every
// problem must come back as a *FieldError naming the file, and a config
// that loads must support the methods other packages call.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"demo.yaml", "production.yaml"} {
		data, err := os.ReadFile(filepath.Join("examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(baseYAML))

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkAllFieldErrors(t, err)
			return
		}
		if cfg == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		exerciseConfig(cfg)
	})
}

func checkAllFieldErrors(t *testing.T, err error) {
	t.Helper()
	list := FieldErrors(err)
	if len(list) == 0 {
		t.Fatalf("error %q holds no *FieldError", err)
	}
	multi, isJoined := err.(interface{ Unwrap() []error })
	if isJoined && len(multi.Unwrap()) != len(list) {
		t.Fatalf("error holds %d errors but only %d are *FieldError: %v", len(multi.Unwrap()), len(list), err)
	}
	for _, fe := range list {
		if fe.File != "fuzz.yaml" || fe.Msg == "" {
			t.Fatalf("FieldError without file or message: %#v", fe)
		}
	}
}

// exerciseConfig calls what other packages call on a loaded config.
func exerciseConfig(cfg *Config) {
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	for i := range cfg.Contracts {
		c := &cfg.Contracts[i]
		_ = c.Hash()
		_ = c.Stages()
		_ = c.Window.Hours.Permitted(at)
		_ = c.Window.Hours.Next(at)
		_ = c.Request.MatchTicket("INC-1")
		_ = c.Approval.Approvers.Resolve(cfg.Identities.Users)
		for _, entry := range c.Scope {
			_ = c.CoversSSH(entry.Target, "deploy")
			_ = c.CoversPG(entry.Target, "readonly")
		}
	}
}

func TestParseRejectsSelfReferencingAlias(t *testing.T) {
	for _, in := range []string{
		"contracts:\n  - &c1 {<<: [*c1]}\n",
		"contracts:\n  - &c1 {<<: *c1}\n",
		"contracts:\n  - &c0\n  - &c1 {<<: [*c1,*c1,*c1,*c1]}",
	} {
		_, err := Parse("self.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), "cannot be used inside its own value") {
			t.Errorf("Parse(%q) = %v, want the self-reference named", in, err)
		}
	}
	// An anchor used again elsewhere is fine.
	ok := "identities:\n  users:\n    - {name: a, groups: &g [eng]}\n    - {name: b, groups: *g}\n"
	if _, err := Parse("reuse.yaml", []byte(ok)); err != nil {
		t.Errorf("reusing an anchor: %v", err)
	}
}
