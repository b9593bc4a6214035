// Package audit is jitgate's append-only, hash-chained event log: every
// request, decision, grant, session and credential step is appended as an
// event whose hash covers its content and the hash of the event before it.
// Changing, inserting or reordering stored events, or deleting any but the
// newest, breaks the chain at that point, and Verify finds the first break.
// Export writes the log as JSON Lines or CSV for auditors.
//
// # The chain
//
// Events are numbered by seq from 1 without gaps. Each event stores
// prev_hash, the hash of the event before it, or 64 zeros (GenesisHash) for
// event 1, and hash, computed as described below. Verify recomputes every
// hash and compares every link.
//
// The chain cannot show that the newest events were deleted, because
// nothing follows them. Keep the head hash that Verify reports somewhere
// else (a ticket, a signed message) and compare it later to detect that.
// Anyone with write access to the store can also rewrite every event from
// some point onward with fresh hashes. A head kept elsewhere detects that
// too.
//
// # Hash input
//
// hash is the lowercase hex SHA-256 of the UTF-8 bytes of a JSON array with
// ten elements, in this order and with no whitespace between tokens:
//
//  1. the string "jitgate-audit-v1", which names this format
//  2. seq, as an integer
//  3. time, as a string in UTC with exactly six fraction digits, for
//     example "2026-03-14T09:26:53.589793Z"
//  4. type, as a string, for example "grant.revoked"
//  5. actor, as a string, empty for jitgate itself
//  6. request id, as an integer, 0 for none
//  7. grant id, as an integer, 0 for none
//  8. session id, as an integer, 0 for none
//  9. details, as a canonical JSON object (see below)
//  10. prev_hash, as a string
//
// Integers are written in decimal with a leading "-" when negative, and no
// leading zeros, plus sign or exponent.
//
// Strings are written between double quotes, with these escapes:
//
//   - the quotation mark and the reverse solidus as \" and \\
//   - U+0008, U+0009, U+000A, U+000C and U+000D as \b, \t, \n, \f and \r
//   - every other character below U+0020 as \u00xx, with lowercase hex digits
//
// All other characters, including non-ASCII ones, are written as their
// UTF-8 bytes without escaping.
//
// A canonical JSON value is the value written with no insignificant
// whitespace, strings as above, true, false and null as such, arrays with
// their elements in order, and objects with their members sorted by key in
// ascending order of Unicode code points (the same as the byte order of
// their UTF-8 encoding). Duplicate keys are an error. A number is written
// with the exact characters it has in the stored details.
//
// Append stores details already in canonical form, so a checker may hash
// the stored details text directly. A checker that parses and re-encodes
// details must keep each number's literal text. In Python, for example,
// the hash input is
//
//	json.dumps(["jitgate-audit-v1", seq, time, type, actor, request_id,
//	    grant_id, session_id, details, prev_hash],
//	    ensure_ascii=False, separators=(",", ":"), sort_keys=True)
//
// with details parsed by json.loads. That is exact for details made of
// strings, integers, booleans and null. Python rewrites some
// floating-point literals, for example 1e2 as 100.0.
//
// # Exports
//
// Export's JSON Lines and CSV outputs carry every field of each event under
// the names seq, time, type, actor, request_id, grant_id, session_id,
// details, prev_hash and hash, with time already in the form of the hash
// input, so the chain can be checked from an export alone.
package audit
