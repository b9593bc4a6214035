// Package identity resolves who a person is: the static users of the config
// for small installs (OIDC plugs in later behind the same methods), their
// groups, their SSH keys, and the API tokens that also serve as Postgres
// passwords.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
)

// Person is an authenticated human.
type Person struct {
	Name   string
	Email  string
	Groups []string
}

// Static is a directory built from the users listed in the config.
type Static struct {
	people map[string]*Person
	hashes map[string]string // password bcrypt hash by name
	tokens map[[sha256.Size]byte]string
	keys   map[string]string // ssh.FingerprintSHA256 by key -> name
}

// NewStatic indexes the config's users. It returns an error naming the
// user and field when a key or token hash does not parse.
func NewStatic(cfg *configs.Config) (*Static, error) {
	s := &Static{
		people: map[string]*Person{},
		hashes: map[string]string{},
		tokens: map[[sha256.Size]byte]string{},
		keys:   map[string]string{},
	}
	for _, u := range cfg.Identities.Users {
		s.people[u.Name] = &Person{Name: u.Name, Email: u.Email, Groups: u.Groups}
		s.hashes[u.Name] = u.PasswordHash
		for _, h := range u.APITokens {
			sum, err := parseTokenHash(h)
			if err != nil {
				return nil, fmt.Errorf("identity: user %s: %w", u.Name, err)
			}
			s.tokens[sum] = u.Name
		}
		for _, line := range u.SSHKeys {
			key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
			if err != nil {
				return nil, fmt.Errorf("identity: user %s: invalid ssh key %.40q: %w", u.Name, line, err)
			}
			s.keys[ssh.FingerprintSHA256(key)] = u.Name
		}
	}
	return s, nil
}

// Groups returns the person's groups and whether the person is known.
func (s *Static) Groups(name string) ([]string, bool) {
	p, ok := s.people[name]
	if !ok {
		return nil, false
	}
	return p.Groups, true
}

// Person returns the named person.
func (s *Static) Person(name string) (*Person, bool) {
	p, ok := s.people[name]
	return p, ok
}

// ByToken returns the person whose API token this is. Tokens are compared
// by their SHA-256, so the stored form never holds the token itself.
func (s *Static) ByToken(token string) (*Person, bool) {
	if token == "" {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	name, ok := s.tokens[sum]
	if !ok {
		return nil, false
	}
	return s.people[name], true
}

// BySSHKey returns the person who registered key.
func (s *Static) BySSHKey(key ssh.PublicKey) (*Person, bool) {
	name, ok := s.keys[ssh.FingerprintSHA256(key)]
	if !ok {
		return nil, false
	}
	return s.people[name], true
}

// CheckPassword returns the person when password matches their bcrypt hash.
// Unknown names still pay for one bcrypt comparison so timing does not
// tell which names exist.
func (s *Static) CheckPassword(name, password string) (*Person, bool) {
	hash, ok := s.hashes[name]
	if !ok || hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, false
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, false
	}
	return s.people[name], true
}

// dummyHash is the bcrypt hash of a random string, compared against for
// unknown users.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

// HashToken returns the form a token is stored in: "sha256:" and the hex
// digest.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewToken returns a fresh random API token.
func NewToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // since Go 1.24, crypto/rand.Read never returns an error
	return "jg_" + base64.RawURLEncoding.EncodeToString(b)
}

func parseTokenHash(h string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	hexPart, ok := strings.CutPrefix(h, "sha256:")
	b, err := hex.DecodeString(hexPart)
	if !ok || err != nil || len(b) != sha256.Size {
		return sum, fmt.Errorf("api token hash %.20q is not sha256:<64 hex digits>; make one with `jitgate token hash`", h)
	}
	copy(sum[:], b)
	return sum, nil
}

// ConstantTimeEqual compares two secrets without leaking where they differ.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
