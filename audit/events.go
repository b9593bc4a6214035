package audit

// Event types, named noun.verb in the past tense. The names are stored in
// the log and hashed, so they must never change once released.
const (
	ConfigLoaded = "config.loaded"

	RequestCreated = "request.created"
	// RequestJoined records a requester attaching to an equal request
	// that is already pending, instead of opening a new one.
	RequestJoined = "request.joined"
	// RequestDecision records one approver's vote.
	RequestDecision = "request.decision"
	// RequestApproved records that the quorum was met.
	RequestApproved  = "request.approved"
	RequestDenied    = "request.denied"
	RequestExpired   = "request.expired"
	RequestCancelled = "request.cancelled"

	GrantCreated  = "grant.created"
	GrantExtended = "grant.extended"
	GrantRevoked  = "grant.revoked"
	// GrantEnded records that the window ran out.
	GrantEnded = "grant.ended"
	// GrantReviewed records the after-the-fact review of a break-glass
	// grant.
	GrantReviewed = "grant.reviewed"

	SessionStarted = "session.started"
	// SessionEnded records a session that the client closed.
	SessionEnded = "session.ended"
	// SessionTerminated records a session that ended for any other reason:
	// the window ended, the grant was revoked, it was idle, or an error.
	SessionTerminated = "session.terminated"

	CredentialMinted  = "credential.minted"
	CredentialRevoked = "credential.revoked"

	// RecordingSealed records a finished recording and its SHA-256.
	RecordingSealed = "recording.sealed"
	// CancelForwarded records a PostgreSQL CancelRequest passed upstream.
	CancelForwarded = "cancel.forwarded"
	// ForwardOpened records an SSH port forwarding channel.
	ForwardOpened = "forward.opened"
)
