package main

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordHashVerifies(t *testing.T) {
	res := jitgate(t, "", "", "s3cret pass\n", "password", "hash")
	if res.code != 0 {
		t.Fatalf("exit status = %d, want 0", res.code)
	}
	hash := strings.TrimSpace(res.stdout)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret pass")); err != nil {
		t.Errorf("printed hash %q does not match the password: %v", hash, err)
	}
	empty := jitgate(t, "", "", "", "password", "hash")
	if empty.code == 0 || !strings.Contains(empty.stderr, "no password on standard input") {
		t.Errorf("empty stdin: exit %d, stderr %q", empty.code, empty.stderr)
	}
}
