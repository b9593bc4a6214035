package notify

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("shared")
	body := []byte(`{"event":"request.created","id":"D1"}`)
	signedAt := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(signedAt.Unix(), 10)
	sig := Sign(secret, signedAt.Unix(), body)

	cases := []struct {
		name      string
		secret    []byte
		timestamp string
		signature string
		body      []byte
		now       time.Time
		maxAge    time.Duration
		want      error
	}{
		{"valid", secret, ts, sig, body, signedAt, 0, nil},
		{"valid four minutes later", secret, ts, sig, body, signedAt.Add(4 * time.Minute), 0, nil},
		{"replayed six minutes later", secret, ts, sig, body, signedAt.Add(6 * time.Minute), 0, ErrStale},
		{"six minutes in the future", secret, ts, sig, body, signedAt.Add(-6 * time.Minute), 0, ErrStale},
		{"shorter max age", secret, ts, sig, body, signedAt.Add(2 * time.Minute), time.Minute, ErrStale},
		{"altered body", secret, ts, sig, []byte(`{"event":"request.approved","id":"D1"}`), signedAt, 0, ErrBadSignature},
		{"wrong secret", []byte("other"), ts, sig, body, signedAt, 0, ErrBadSignature},
		{"timestamp moved", secret, strconv.FormatInt(signedAt.Unix()+60, 10), sig, body, signedAt, 0, ErrBadSignature},
		{"timestamp with leading zero", secret, "0" + ts, sig, body, signedAt, 0, ErrBadSignature},
		{"old replay with bad signature", []byte("other"), ts, sig, body, signedAt.Add(time.Hour), 0, ErrBadSignature},
		{"timestamp not a number", secret, "yesterday", sig, body, signedAt, 0, ErrMalformed},
		{"timestamp missing", secret, "", sig, body, signedAt, 0, ErrMalformed},
		{"signature without prefix", secret, ts, sig[len("sha256="):], body, signedAt, 0, ErrMalformed},
		{"signature not hex", secret, ts, "sha256=zz", body, signedAt, 0, ErrMalformed},
		{"signature truncated", secret, ts, sig[:len(sig)-2], body, signedAt, 0, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.timestamp, tc.signature, tc.body, tc.now, tc.maxAge)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignKnownVector(t *testing.T) {
	// Computed independently with:
	//   printf '1700000000.{}' | openssl dgst -sha256 -hmac key
	const want = "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
	got := Sign([]byte("key"), 1700000000, []byte("{}"))
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
