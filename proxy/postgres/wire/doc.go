// Package wire is the PostgreSQL frontend/backend protocol codec of the
// jitgate front door. It negotiates encryption on a new client connection
// (SSLRequest, GSSENCRequest, and direct TLS with ALPN "postgresql"). It
// reads the first packet (StartupMessage or CancelRequest) within
// PostgreSQL's size limits. It relays framed messages in batches and lets
// a caller inspect each message in place.
//
// The package holds no policy and does not log. It returns errors, and the
// session logic in package postgres decides which message the client gets.
//
// Sources, PostgreSQL 15 documentation, chapter "Frontend/Backend Protocol":
//   - "Message Flow", sections "Start-up", "Canceling Requests in Progress",
//     "SSL Session Encryption" and "GSSAPI Session Encryption":
//     https://www.postgresql.org/docs/15/protocol-flow.html
//   - "Message Formats": https://www.postgresql.org/docs/15/protocol-message-formats.html
//   - Direct TLS without SSLRequest, with the mandatory ALPN protocol
//     "postgresql", is new in PostgreSQL 17 ("SSL Session Encryption"):
//     https://www.postgresql.org/docs/17/protocol-flow.html
//
// Size limits follow the PostgreSQL 15 server: a startup packet body of at
// most 10,000 bytes (MAX_STARTUP_PACKET_LENGTH in src/include/libpq/pqcomm.h),
// and per message type either PQ_SMALL_MESSAGE_LIMIT (10,000 bytes) or
// PQ_LARGE_MESSAGE_LIMIT (1 GiB less 2 bytes), as SocketBackend in
// src/backend/tcop/postgres.c assigns them.
package wire
