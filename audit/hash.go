package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/jitgate/jitgate/store"
)

// GenesisHash is the PrevHash of the first event: 64 zeros, the length of
// a hex SHA-256.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeLayout is the layout of event times in the hash input and in exports:
// UTC, always six fraction digits. Go's Format truncates finer digits,
// which Append has already dropped.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// hashFormat is the first element of the hash input. A future change to
// the input gets a new value, so old and new events stay verifiable.
const hashFormat = "jitgate-audit-v1"

// EventHash returns the hex SHA-256 of the canonical encoding of e, which
// covers every field but Hash itself. It fails when e.Details is not a JSON
// object.
func EventHash(e *store.Event) (string, error) {
	input, err := hashInput(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(input)
	return hex.EncodeToString(sum[:]), nil
}

// hashInput returns the canonical JSON array that doc.go describes.
func hashInput(e *store.Event) ([]byte, error) {
	details, err := canonicalObject(e.Details)
	if err != nil {
		return nil, fmt.Errorf("event %d: %w", e.Seq, err)
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	writeString(&buf, hashFormat)
	buf.WriteByte(',')
	buf.WriteString(strconv.FormatInt(e.Seq, 10))
	buf.WriteByte(',')
	writeString(&buf, e.Time.UTC().Format(TimeLayout))
	buf.WriteByte(',')
	writeString(&buf, e.Type)
	buf.WriteByte(',')
	writeString(&buf, e.Actor)
	for _, id := range []int64{e.RequestID, e.GrantID, e.SessionID} {
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatInt(id, 10))
	}
	buf.WriteByte(',')
	buf.Write(details)
	buf.WriteByte(',')
	writeString(&buf, e.PrevHash)
	buf.WriteByte(']')
	return buf.Bytes(), nil
}
