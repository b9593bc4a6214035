package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash returns the hex SHA-256 of the contract's canonical JSON encoding.
// Every grant stores it, so evidence can show which version of the terms a
// grant was made under. encoding/json writes struct fields in declaration
// order, so the encoding is stable for a given schema.
func (c *Contract) Hash() string {
	b, err := json.Marshal(c)
	if err != nil {
		// Every field is a string, number, bool, time, or a slice, struct
		// or pointer of those, which Marshal always encodes.
		panic("configs: encoding a contract: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
