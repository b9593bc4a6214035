package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header names set on every delivery. Signature headers are set only when
// the endpoint has a secret.
const (
	HeaderEvent     = "X-Jitgate-Event"
	HeaderDelivery  = "X-Jitgate-Delivery"
	HeaderTimestamp = "X-Jitgate-Timestamp"
	HeaderSignature = "X-Jitgate-Signature"
)

// DefaultMaxAge is how far a signed timestamp may be from the receiver's
// clock, in either direction, before Verify rejects the delivery as a
// replay.
const DefaultMaxAge = 5 * time.Minute

// signaturePrefix names the algorithm in X-Jitgate-Signature.
const signaturePrefix = "sha256="

// Errors returned by Verify, wrapped with the details.
var (
	ErrMalformed    = errors.New("notify: malformed signature headers")
	ErrBadSignature = errors.New("notify: signature does not match the body")
	ErrStale        = errors.New("notify: timestamp outside the accepted age")
)

// Sign returns the X-Jitgate-Signature value for body sent at timestamp
// (Unix seconds): "sha256=" and the hex HMAC-SHA256 of
// "<timestamp>.<body>" keyed with secret.
func Sign(secret []byte, timestamp int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as a receiver should. The signature must be the
// HMAC-SHA256 of the timestamp header, a dot and the body, keyed with
// secret. The timestamp must be within maxAge of now in either direction,
// and a maxAge of zero or less means DefaultMaxAge. Verify returns an
// error wrapping ErrMalformed, ErrBadSignature or ErrStale. Verify does not
// remember deliveries: a receiver that must not act twice on a replay
// inside maxAge also drops delivery ids it has seen.
func Verify(secret []byte, timestampHeader, signatureHeader string, body []byte, now time.Time, maxAge time.Duration) error {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	ts, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrMalformed, HeaderTimestamp, timestampHeader)
	}
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(signatureHeader), signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s does not start with %q", ErrMalformed, HeaderSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: %s is not %d hex-encoded bytes", ErrMalformed, HeaderSignature, sha256.Size)
	}

	// The signature is checked before the age, so a forged request learns
	// nothing about the accepted time range.
	if !hmac.Equal(got, mac(secret, timestampHeader, body)) {
		return fmt.Errorf("%w: check the shared secret and that the body is read unchanged", ErrBadSignature)
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > maxAge {
		return fmt.Errorf("%w: signed %s ago, more than %s", ErrStale, age.Round(time.Second), maxAge)
	}
	if age < -maxAge {
		return fmt.Errorf("%w: signed %s in the future, more than %s; check the clocks", ErrStale, (-age).Round(time.Second), maxAge)
	}
	return nil
}
