package credentials

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"testing"
)

// TestSCRAMKeysRFC7677 checks the derivation against the example exchange
// of RFC 7677 section 3 (user "user", password "pencil").
func TestSCRAMKeysRFC7677(t *testing.T) {
	salt, err := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	mustNil(t, err)
	keys, err := deriveSCRAMKeys("pencil", salt, 4096)
	mustNil(t, err)

	const clientNonce = "rOprNGfwEbeRWgbNEkqO"
	const serverNonce = clientNonce + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=" + clientNonce +
		",r=" + serverNonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096" +
		",c=biws,r=" + serverNonce

	clientSignature := hmacSHA256(keys.storedKey, authMessage)
	proof := make([]byte, len(keys.clientKey))
	for i := range proof {
		proof[i] = keys.clientKey[i] ^ clientSignature[i]
	}
	if got, want := base64.StdEncoding.EncodeToString(proof), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; got != want {
		t.Errorf("client proof = %s, want %s", got, want)
	}
	serverSignature := hmacSHA256(keys.serverKey, authMessage)
	if got, want := base64.StdEncoding.EncodeToString(serverSignature), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; got != want {
		t.Errorf("server signature = %s, want %s", got, want)
	}
	storedKey := sha256.Sum256(keys.clientKey)
	if !hmac.Equal(storedKey[:], keys.storedKey) {
		t.Error("StoredKey is not SHA-256 of ClientKey")
	}
}

func TestSCRAMSecretFormat(t *testing.T) {
	secret, err := scramSecret("password")
	mustNil(t, err)
	// The form PostgreSQL's own regression tests match.
	pattern := regexp.MustCompile(`^SCRAM-SHA-256\$1:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$`)
	if !pattern.MatchString(secret) {
		t.Errorf("secret %q does not have the form SCRAM-SHA-256$1:<salt>$<StoredKey>:<ServerKey>", secret)
	}
	again, err := scramSecret("password")
	mustNil(t, err)
	if again == secret {
		t.Error("two secrets of one password are equal, so the salt is not random")
	}
}

// BenchmarkSCRAMDerive measures the PBKDF2 derivation that Mint runs once
// per role and pgconn runs once per login, at PostgreSQL's default
// iteration count, which temporary roles no longer use.
func BenchmarkSCRAMDerive(b *testing.B) {
	salt := make([]byte, scramSaltLen)
	for b.Loop() {
		if _, err := deriveSCRAMKeys("0123456789abcdef0123456789abcdef0123456789a", salt, 4096); err != nil {
			b.Fatal(err)
		}
	}
}
