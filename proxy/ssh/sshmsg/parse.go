package sshmsg

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// ErrMalformed is wrapped by every error a parser returns.
var ErrMalformed = errors.New("malformed SSH message")

// parse decodes payload into a T with ssh.Unmarshal, which rejects short
// payloads and trailing bytes, and then applies check.
func parse[T any](name string, payload []byte, check func(*T) error) (T, error) {
	var v T
	if err := ssh.Unmarshal(payload, &v); err != nil {
		return v, fmt.Errorf("%w: %s payload of %d bytes: %v", ErrMalformed, name, len(payload), err)
	}
	if check != nil {
		if err := check(&v); err != nil {
			return v, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
		}
	}
	return v, nil
}

// checkLen returns an error when field value s is longer than limit.
func checkLen(field, s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("%s is %d bytes, more than the %d allowed", field, len(s), limit)
	}
	return nil
}

// checkPort returns an error when port does not fit in 16 bits.
func checkPort(field string, port uint32) error {
	if port > 65535 {
		return fmt.Errorf("%s %d is not a TCP port (0 to 65535)", field, port)
	}
	return nil
}
