package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestStaticLookups(t *testing.T) {
	aliceKey, strangerKey := newKey(t), newKey(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("bob-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &configs.Config{Identities: configs.Identities{Users: []configs.User{
		{Name: "alice", Groups: []string{"eng"}, APITokens: []string{HashToken("alice-token")},
			SSHKeys: []string{string(ssh.MarshalAuthorizedKey(aliceKey))}},
		{Name: "bob", PasswordHash: string(hash)},
	}}}
	s, err := NewStatic(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if p, ok := s.ByToken("alice-token"); !ok || p.Name != "alice" {
		t.Errorf("ByToken(alice-token) = %v, %v; want alice", p, ok)
	}
	if _, ok := s.ByToken("bob-token"); ok {
		t.Error("ByToken accepted an unknown token")
	}
	if _, ok := s.ByToken(""); ok {
		t.Error("ByToken accepted an empty token")
	}
	if p, ok := s.BySSHKey(aliceKey); !ok || p.Name != "alice" {
		t.Errorf("BySSHKey(alice's key) = %v, %v; want alice", p, ok)
	}
	if _, ok := s.BySSHKey(strangerKey); ok {
		t.Error("BySSHKey accepted an unregistered key")
	}
	if p, ok := s.CheckPassword("bob", "bob-password"); !ok || p.Name != "bob" {
		t.Errorf("CheckPassword(bob, right) = %v, %v; want bob", p, ok)
	}
	if _, ok := s.CheckPassword("bob", "wrong"); ok {
		t.Error("CheckPassword accepted a wrong password")
	}
	if _, ok := s.CheckPassword("alice", "anything"); ok {
		t.Error("CheckPassword accepted a user without a password hash")
	}
	if groups, ok := s.Groups("alice"); !ok || len(groups) != 1 || groups[0] != "eng" {
		t.Errorf("Groups(alice) = %v, %v; want [eng]", groups, ok)
	}
	if _, ok := s.Groups("zed"); ok {
		t.Error("Groups reported an unknown person as known")
	}
}

func TestNewStaticRejectsBadTokenHash(t *testing.T) {
	cfg := &configs.Config{Identities: configs.Identities{Users: []configs.User{
		{Name: "alice", APITokens: []string{"sha256:abc"}},
	}}}
	_, err := NewStatic(cfg)
	if err == nil || !strings.Contains(err.Error(), "user alice") {
		t.Errorf("NewStatic with a short hash: err = %v, want one naming user alice", err)
	}
}

func TestNewTokenIsFresh(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || !strings.HasPrefix(a, "jg_") || len(a) < 30 {
		t.Errorf("NewToken gave %q and %q, want two different jg_ tokens of 30 or more characters", a, b)
	}
	if !strings.HasPrefix(HashToken(a), "sha256:") || len(HashToken(a)) != len("sha256:")+64 {
		t.Errorf("HashToken(%q) = %q, want sha256: and 64 hex digits", a, HashToken(a))
	}
}
