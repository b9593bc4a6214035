// Package postgres is the PostgreSQL front door of jitgate. Engineers point
// stock clients (psql, pgx, JDBC, psycopg) at it as if it were the
// database. It authenticates them with their jitgate API token and holds
// the connection until an approver grants access. It then logs in
// upstream as a temporary role that dies with the grant's window, relays
// the session while recording its statements, and closes the connection
// when the window ends or the grant is revoked.
//
// # Connecting
//
// The user name is the person's jitgate name, the password is their API
// token, and the database name selects the target:
//
//	psql "host=jitgate.example.com port=6432 user=alice dbname=orders sslmode=require"
//
// The password is sent in clear text inside TLS, so the front door rejects
// connections without TLS with a FATAL that names sslmode=require, unless
// the listener is bound to loopback only and the config sets
// postgres.insecure_allow_plaintext_on_loopback. The front door does not
// offer SCRAM-SHA-256-PLUS, because it stores only a hash of each token,
// so a client with channel_binding=require stops at the password request
// with libpq's own message ("channel binding required but not supported by
// server's authentication request").
//
// The database name has the form TARGET[/DATABASE][@ROLE]:
//
//   - TARGET is a Postgres target of the config.
//   - DATABASE picks a database other than the target's default one.
//   - ROLE picks the granted role when the person's contracts allow
//     several on the target. With one allowed role it may be left out.
//
// The same choices, and the fields of the access request, can be set as
// settings in the options parameter (PGOPTIONS) or as startup parameters
// of their own, which pgx and JDBC can send. The settings are:
//
//	jitgate.role        granted role, as @ROLE
//	jitgate.database    upstream database, as /DATABASE
//	jitgate.reason      reason of the access request
//	jitgate.ticket      ticket of the access request, such as INC-42
//	jitgate.trigger     trigger of the access request, such as incident
//	jitgate.duration    window to ask for, such as 30m
//	jitgate.contract    contract to request under, when several cover the ask
//	jitgate.break_glass on, to use the contract's break-glass terms
//
// For example, with a backslash before each space of a value:
//
//	PGOPTIONS='-c jitgate.role=readwrite -c jitgate.reason=fix\ stuck\ job -c jitgate.ticket=INC-42' psql ...
//
// Every other startup parameter (application_name, DateStyle, options
// without jitgate settings, and so on) reaches the upstream server
// unchanged. Replication connections are rejected at startup.
//
// # Holding for approval
//
// Without an active grant for the person, target and role, the front door
// opens an access request under the matching contract, sends
// AuthenticationOk and then a NoticeResponse with the request id and its
// approval page, which psql prints at once, and waits for the decision up
// to the contract's pending TTL. A client with a connect timeout shorter
// than that (libpq's connect_timeout, JDBC's loginTimeout) gives up
// earlier, and its request stays pending. A denied, expired or cancelled
// request ends the connection with a FATAL ErrorResponse (SQLSTATE 28000)
// that names the outcome and its reason.
//
// # Sessions
//
// After approval the session is registered with the session registry,
// which warns the client (NoticeResponse) before the window ends and then
// terminates it with SQLSTATE 57P01 naming the grant, or 57P05 after the
// contract's idle timeout. Termination cancels a running statement
// upstream, sends Terminate and closes both sockets, so an open
// transaction rolls back.
//
// Each grant gets one temporary role upstream (package credentials),
// shared by its connections and dropped when the grant ends or is
// revoked; a target with a service_role logs in as that role instead.
// A client that leaves cleanly leaves its upstream connection, reset
// with DISCARD ALL, to the grant's next connection with the same
// database and startup parameters (pool.go).
// The client sees the upstream ParameterStatus messages and a BackendKeyData
// issued by the front door, whose CancelRequest it routes to the right
// upstream backend.
//
// NOTE: the cancel keys live in this process. With several replicas behind
// one address, a CancelRequest that reaches another replica is dropped.
//
// # Query capture
//
// Unless the contract turns Postgres recording off, each session writes a
// JSON Lines query log (package recordings): one line per statement with
// its text, its parameters as the contract says (off, on, or redacted),
// start time, duration, command tag, row count and error code. Lines are
// buffered and flushed at each ReadyForQuery.
//
// Protocol sources are listed in the package doc of the wire subpackage,
// which holds the codec: encryption negotiation, size limits and framing.
package postgres
