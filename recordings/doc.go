// Package recordings writes, stores and replays session recordings: asciicast
// v2 files for SSH terminal sessions and JSON Lines query logs for PostgreSQL
// sessions.
//
// Recordings exist for audit first. Every file starts with a header line that
// names the person, the target, the login or role, the request, grant and
// session ids, the approvers and the hash of the contract version the grant
// was made under, so a file found on its own still identifies its session. Every
// event carries its time. Each file is hashed while it is written (see FS and
// File) so the caller can seal the SHA-256 into the audit log.
//
// Terminal recordings follow the asciicast v2 format
// (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header object on
// the first line, then one JSON array [time, code, data] per line, where time
// is seconds since the start as a float and code is "o" (output), "i"
// (input), "r" (resize, data "COLSxROWS") or "m" (marker). The header adds a
// "jitgate" object, which asciinema players ignore as an unknown key.
package recordings
