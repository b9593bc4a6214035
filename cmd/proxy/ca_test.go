package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server/servertest"
)

func TestCAPrintsStableUserCAKey(t *testing.T) {
	config := servertest.WriteConfig(t, t.TempDir(), servertest.Options{})
	cfg, err := configs.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	first := jitgate(t, "", "", "", "ca", "ssh-user-ca", "--config", config)
	if first.code != 0 {
		t.Fatalf("exit status = %d, want 0", first.code)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(first.stdout))
	if err != nil {
		t.Fatalf("output %q is not an authorized_keys line: %v", first.stdout, err)
	}
	if key.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("key type = %s, want ssh-ed25519", key.Type())
	}
	if _, err := os.Stat(cfg.SSH.UserCAKeyFile); err != nil {
		t.Errorf("CA key file %s was not kept: %v", filepath.Base(cfg.SSH.UserCAKeyFile), err)
	}
	second := jitgate(t, "", "", "", "ca", "ssh-user-ca", "--config", config)
	if strings.TrimSpace(second.stdout) != strings.TrimSpace(first.stdout) {
		t.Errorf("second run printed another key:\n%s\nwant\n%s", second.stdout, first.stdout)
	}
}
