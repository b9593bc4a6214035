package sshproxy

import "time"

// Bounds on what one client may make the front door hold.
const (
	// maxChannelsPerConn caps the channels open at once on one
	// connection: sessions, forwards and channels the target opens.
	maxChannelsPerConn = 64
	// maxQueuedRequests caps the channel requests waiting for a session
	// channel's worker; a client that sends more is disconnected from
	// that channel.
	maxQueuedRequests = 128
	// maxQueuedGlobalRequests caps the global requests waiting for the
	// connection's worker.
	maxQueuedGlobalRequests = 64
	// maxPendingTargetWrites caps the unfinished writes for a session
	// channel's target requests, per direction: eow@openssh.com and
	// xon-xoff to the client, replies to the target. Later ones are dropped.
	maxPendingTargetWrites = 16
	// maxEnvPerChannel and maxEnvBytesPerChannel cap env requests on one
	// session channel; later ones get a failure reply.
	maxEnvPerChannel      = 64
	maxEnvBytesPerChannel = 64 << 10
	// maxRemoteForwards caps the tcpip-forward and streamlocal-forward
	// requests active on one connection.
	maxRemoteForwards = 16
	// maxPromptLen caps a line typed at a prompt on the terminal.
	maxPromptLen = 1024
	// maxHeldRecordingBytes caps the notices kept for a recording before
	// the recording file exists.
	maxHeldRecordingBytes = 64 << 10
)

// Default timeouts; Options can override the first four.
const (
	// defaultLoginGraceTime bounds the SSH handshake and authentication of
	// a new connection, as LoginGraceTime does for sshd (default 120s).
	defaultLoginGraceTime = time.Minute
	// defaultDialTimeout bounds the TCP connect and SSH handshake with the
	// target.
	defaultDialTimeout = 20 * time.Second
	// defaultCloseWait is how long a terminated connection waits for the
	// client's own close, beyond two round trips, before jitgate's FIN.
	// On an idle test machine, OpenSSH clients exited within 10 ms of a
	// revocation, jitgate's own work included.
	defaultCloseWait = 20 * time.Millisecond
	// defaultCloseGrace is how long a terminated connection waits for the
	// client to close before the socket is closed.
	defaultCloseGrace = 2 * time.Second
	// upstreamGoneWait is how long a channel that the target closed
	// without an exit status waits to learn whether the whole target
	// connection ended, in which case Terminate explains the end.
	upstreamGoneWait = 200 * time.Millisecond
	// claimWait bounds how long a remote forwarding request waits for a
	// session channel to take the hold display; OpenSSH opens the session
	// channel in the same round trip.
	claimWait = time.Second
	// holdSlack is added to a request's expiry for the hold's own deadline,
	// a bound in case the engine's expiry timer never fires.
	holdSlack = time.Minute
)
