package credentials

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// SCRAM-SHA-256 parameters of the secrets Mint stores.
const (
	// scramIterations is the PBKDF2 iteration count of a temporary role's
	// secret. PostgreSQL's default is 4096, which makes guessing a
	// password that a person chose slower. A temporary role's password
	// is 32 random bytes, which no guessing reaches, so more iterations
	// add no safety. They would cost jitgate about 0.8 ms of CPU at every
	// upstream login, because the client derives the key from the
	// iteration count the server sends.
	scramIterations = 1
	// scramSaltLen is the salt length in bytes that PostgreSQL itself uses.
	scramSaltLen = 16
)

// scramKeys are the keys derived from a password, as RFC 5802 section 3
// defines them.
type scramKeys struct {
	clientKey []byte
	storedKey []byte
	serverKey []byte
}

// deriveSCRAMKeys derives the SCRAM-SHA-256 keys of password:
//
//	SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
//	ClientKey      = HMAC(SaltedPassword, "Client Key")
//	StoredKey      = SHA-256(ClientKey)
//	ServerKey      = HMAC(SaltedPassword, "Server Key")
//
// It applies no SASLprep normalization, so password must be ASCII without
// control characters, which SASLprep leaves unchanged. Mint's generated
// passwords are.
func deriveSCRAMKeys(password string, salt []byte, iterations int) (scramKeys, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return scramKeys{}, fmt.Errorf("credentials: derive SCRAM key: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	return scramKeys{
		clientKey: clientKey,
		storedKey: storedKey[:],
		serverKey: hmacSHA256(salted, "Server Key"),
	}, nil
}

func hmacSHA256(key []byte, message string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(message))
	return mac.Sum(nil)
}

// scramSecret returns the PostgreSQL form of a SCRAM-SHA-256 password
// secret, SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> with
// base64 fields, which CREATE ROLE ... PASSWORD stores as given.
func scramSecret(password string) (string, error) {
	salt := make([]byte, scramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("credentials: generate SCRAM salt: %w", err)
	}
	return formatSCRAMSecret(password, salt, scramIterations)
}

func formatSCRAMSecret(password string, salt []byte, iterations int) (string, error) {
	keys, err := deriveSCRAMKeys(password, salt, iterations)
	if err != nil {
		return "", err
	}
	encode := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, encode(salt), encode(keys.storedKey), encode(keys.serverKey)), nil
}
