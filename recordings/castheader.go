package recordings

import "time"

// Asciicast event codes, from the asciicast v2 format.
const (
	CodeOutput = "o"
	CodeInput  = "i"
	CodeResize = "r"
	CodeMarker = "m"
)

// castVersion is the asciicast format version this package writes and reads.
const castVersion = 2

// Terminal size written to the header when the session has no PTY and the
// caller gives no size, because the asciicast v2 format requires both.
const (
	DefaultCastWidth  = 80
	DefaultCastHeight = 24
)

// CastHeader is the first line of an asciicast v2 file.
type CastHeader struct {
	// Version is always 2; NewCast sets it.
	Version int `json:"version"`
	// Width and Height are the initial terminal size in columns and rows.
	// NewCast writes 80x24 when either is zero.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Timestamp is the start in Unix seconds; NewCast derives it from Start.
	Timestamp int64    `json:"timestamp"`
	Title     string   `json:"title,omitempty"`
	Env       *CastEnv `json:"env,omitempty"`
	// JITGate is the audit context of the recording.
	JITGate *CastSession `json:"jitgate,omitempty"`

	// Start is the instant event times count from. NewCast requires it.
	// The file keeps only whole seconds (Timestamp), so Parse returns
	// Start truncated to the second.
	Start time.Time `json:"-"`
}

// CastEnv is the allow-listed part of the client's environment. Only TERM
// and SHELL are recorded, never the whole environment, which may hold
// secrets.
type CastEnv struct {
	Term  string `json:"TERM,omitempty"`
	Shell string `json:"SHELL,omitempty"`
}

// CastSession is the audit context in the header's "jitgate" object.
type CastSession struct {
	// Person is the user name of the person who connected.
	Person string `json:"who"`
	Target string `json:"target"`
	// Login is the OS account on the target.
	Login     string `json:"login"`
	RequestID int64  `json:"request"`
	GrantID   int64  `json:"grant"`
	SessionID int64  `json:"session"`
	// Channel is the SSH channel number within the session.
	Channel int `json:"channel"`
	// ContractHash is the hash of the contract version the grant was
	// made under.
	ContractHash string   `json:"contract_hash"`
	Approvers    []string `json:"approvers"`
	// PTY is whether the client requested a pseudo-terminal.
	PTY bool `json:"pty"`
	// Command is the exec request's command, empty for a shell.
	Command string `json:"command,omitempty"`
}
