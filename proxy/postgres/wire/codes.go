package wire

// Request codes that take the place of a protocol version in the first
// packet of a connection ("Message Formats": SSLRequest, GSSENCRequest,
// CancelRequest).
const (
	CancelRequestCode = 1234<<16 | 5678 // 80877102
	SSLRequestCode    = 1234<<16 | 5679 // 80877103
	GSSENCRequestCode = 1234<<16 | 5680 // 80877104
)

// ProtocolMajor is the only protocol major version the front door speaks.
const ProtocolMajor = 3

// NewestMinor is the newest minor version of protocol 3 the front door
// speaks. It is 0 because the upstream servers are PostgreSQL 15, whose
// newest minor version is 0, and the relay passes messages through as they
// are.
const NewestMinor = 0

// tlsRecordHandshake is the first byte of a TLS ClientHello record. A
// startup packet cannot begin with it, because that byte would be the top
// byte of a length of at least 0x16000000, far over MaxStartupPacketLen.
const tlsRecordHandshake = 0x16

// ALPNProtocol is the ALPN protocol name that PostgreSQL 17 and later
// require on a direct TLS connection.
const ALPNProtocol = "postgresql"

// Size limits, in bytes.
const (
	// MaxStartupPacketLen is the largest startup packet body after the
	// length word (MAX_STARTUP_PACKET_LENGTH in PostgreSQL 15).
	MaxStartupPacketLen = 10000
	// minStartupPacketLen is the smallest body: one 32-bit version or code.
	minStartupPacketLen = 4
	// SmallMessageLimit is PQ_SMALL_MESSAGE_LIMIT: the largest length word
	// (which counts itself) of a client message that carries no data, such
	// as Sync, Execute or CopyDone.
	SmallMessageLimit = 10000
	// LargeMessageLimit is PQ_LARGE_MESSAGE_LIMIT (MaxAllocSize - 1): the
	// largest length word of a Query, Parse, Bind, FunctionCall or CopyData.
	LargeMessageLimit = 0x3fffffff - 1
	// MaxPasswordLen bounds the password message body; PostgreSQL uses
	// PG_MAX_AUTH_TOKEN_LENGTH (65535) for the same purpose.
	MaxPasswordLen = 65535
	// maxCancelSecretLen is the longest secret key a CancelRequest may
	// carry (protocol 3.2 allows up to 256 bytes).
	maxCancelSecretLen = 256
)

// SQLSTATE codes the front door sends (PostgreSQL Appendix A, "PostgreSQL
// Error Codes").
const (
	CodeProtocolViolation     = "08P01"
	CodeFeatureNotSupported   = "0A000"
	CodeInvalidAuthorization  = "28000"
	CodeInvalidPassword       = "28P01"
	CodeTooManyConnections    = "53300"
	CodeAdminShutdown         = "57P01"
	CodeIdleSessionTimeout    = "57P05"
	CodeConnectionFailure     = "08006"
	CodeInsufficientPrivilege = "42501"
	CodeInternalError         = "XX000"
	CodeInvalidParameterValue = "22023"
	CodeQueryCanceled         = "57014"
)
