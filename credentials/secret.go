package credentials

import (
	"fmt"
	"os"
	"strings"
)

// ReadSecretFile returns the content of a file that holds one secret, such
// as a database password, without its trailing line break. It fails on an
// empty file, so a missing secret is not taken as an empty password.
func ReadSecretFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("credentials: read secret file %s: %w", path, err)
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("credentials: secret file %s is empty: write the secret into it", path)
	}
	return secret, nil
}
