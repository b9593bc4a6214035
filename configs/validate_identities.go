package configs

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// tokenHashPattern is the form `jitgate token hash` prints: the SHA-256 of
// the token in lowercase hex.
var tokenHashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// validateUsers checks each static user. SSH keys and token hashes must
// also be unique across users, because each identifies one person.
func (v *validator) validateUsers() {
	names := v.newNameIndex("give each user a different name")
	keys := v.newNameIndex("each person needs their own key, so remove it from one user")
	tokens := v.newNameIndex("each token hash identifies one person, so remove it from one user")

	for i := range v.cfg.Identities.Users {
		u := &v.cfg.Identities.Users[i]
		path := indexPath("identities.users", i)

		if v.required(path+".name", u.Name, "add the user's login name, such as name: alice") {
			if strings.ContainsFunc(u.Name, isSpaceOrControl) {
				v.fail(path+".name", "%q contains spaces or control characters; use a login name such as alice", u.Name)
			}
			names.add(path+".name", u.Name, strconv.Quote(u.Name))
		}
		for j, group := range u.Groups {
			if group == "" || strings.ContainsFunc(group, isSpaceOrControl) {
				v.fail(indexPath(path+".groups", j), "%q is not a group name; use a name without spaces, such as engineers", group)
			}
		}
		for j, line := range u.SSHKeys {
			keyPath := indexPath(path+".ssh_keys", j)
			if key := v.checkAuthorizedKey(keyPath, line); key != nil {
				keys.add(keyPath, string(key.Marshal()), "the key "+ssh.FingerprintSHA256(key))
			}
		}
		for j, hash := range u.APITokens {
			tokenPath := indexPath(path+".api_tokens", j)
			if !tokenHashPattern.MatchString(hash) {
				v.fail(tokenPath, "%q is not a token hash; write sha256: followed by 64 lowercase hex digits, as `jitgate token hash` prints", shorten(hash, 80))
				continue
			}
			tokens.add(tokenPath, hash, "the token hash")
		}
		if u.PasswordHash != "" {
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
				v.fail(path+".password_hash", "not a bcrypt hash (%v); write a hash that starts with $2a$, $2b$ or $2y$, such as printf %%s PASSWORD | jitgate password hash prints", err)
			}
		}
	}
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
