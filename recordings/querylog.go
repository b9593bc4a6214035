package recordings

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// queryLogVersion is the version of the query log format written here.
const queryLogVersion = 1

// Line types in a query log.
const (
	queryLogTypeHeader = "header"
	queryLogTypeQuery  = "query"
)

// QueryLogHeader is the first line of a query log: the audit context of one
// PostgreSQL session.
type QueryLogHeader struct {
	// Start is the session start. NewQueryLog requires it.
	Start time.Time
	// Person is the user name of the person who connected.
	Person string
	Target string
	// Database is the database the client connected to.
	Database string
	// Role is the granted role; UpstreamRole is the temporary role the
	// session logged in as upstream.
	Role         string
	UpstreamRole string
	RequestID    int64
	GrantID      int64
	SessionID    int64
	// ContractHash is the hash of the contract version the grant was
	// made under.
	ContractHash string
	Approvers    []string
	// Parameters is the contract's parameter recording mode: off, on or
	// redacted.
	Parameters string
}

// queryLogHeaderLine is the JSON form of QueryLogHeader.
type queryLogHeaderLine struct {
	Type         string   `json:"type"`
	Version      int      `json:"version"`
	Start        string   `json:"start"`
	Who          string   `json:"who"`
	Target       string   `json:"target"`
	Database     string   `json:"database"`
	Role         string   `json:"role"`
	UpstreamRole string   `json:"upstream_role"`
	RequestID    int64    `json:"request"`
	GrantID      int64    `json:"grant"`
	SessionID    int64    `json:"session"`
	ContractHash string   `json:"contract_hash"`
	Approvers    []string `json:"approvers"`
	Parameters   string   `json:"parameters"`
}

// QueryEvent is one statement the client ran: a simple Query message, or
// an extended-protocol Execute.
type QueryEvent struct {
	Start    time.Time
	Duration time.Duration
	// Text is the SQL text, with redaction already applied by the caller.
	// Bytes that are not valid UTF-8 are written as U+FFFD.
	Text string
	// Params are the bound parameter values as RedactParams returns them,
	// or nil when parameters are not recorded.
	Params []string
	// Tag is the CommandComplete tag, such as "SELECT 3".
	Tag  string
	Rows int64
	// ErrorCode and ErrorMessage are the SQLSTATE and message of an
	// ErrorResponse, empty on success.
	ErrorCode    string
	ErrorMessage string
}

// QueryLog writes a JSON Lines query log: a header line, then one line per
// statement. Each line goes to the underlying writer in one Write call.
// Its methods are safe for concurrent use.
type QueryLog struct {
	w io.Writer

	// mu guards the fields below.
	mu     sync.Mutex
	err    error  // first write error, returned by every later call
	line   []byte // the encoding buffer, reused from line to line
	stamp  secondStamp
	closed bool
}

// maxKeptLine is the largest encoding buffer a QueryLog keeps after a
// line, so one huge statement does not stay in memory.
const maxKeptLine = 16 << 10

// NewQueryLog writes the header line of h to w and returns the log.
func NewQueryLog(w io.Writer, h QueryLogHeader) (*QueryLog, error) {
	if h.Start.IsZero() {
		return nil, errors.New("recordings: query log header has no Start: set it to the session start")
	}
	approvers := h.Approvers
	if approvers == nil {
		approvers = []string{} // written as [] rather than null
	}
	line, err := marshalLine(queryLogHeaderLine{
		Type:         queryLogTypeHeader,
		Version:      queryLogVersion,
		Start:        formatLogTime(h.Start),
		Who:          h.Person,
		Target:       h.Target,
		Database:     h.Database,
		Role:         h.Role,
		UpstreamRole: h.UpstreamRole,
		RequestID:    h.RequestID,
		GrantID:      h.GrantID,
		SessionID:    h.SessionID,
		ContractHash: h.ContractHash,
		Approvers:    approvers,
		Parameters:   h.Parameters,
	})
	if err != nil {
		return nil, fmt.Errorf("recordings: encode query log header: %w", err)
	}
	if _, err := w.Write(line); err != nil {
		return nil, fmt.Errorf("recordings: write query log header: %w", err)
	}
	return &QueryLog{w: w}, nil
}

// Record writes one statement.
func (l *QueryLog) Record(ev QueryEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.err != nil {
		return l.err
	}
	l.line = appendQueryEvent(l.line[:0], ev, &l.stamp)
	if _, err := l.w.Write(l.line); err != nil {
		l.err = fmt.Errorf("recordings: write query event: %w", err)
		return l.err
	}
	if cap(l.line) > maxKeptLine {
		l.line = nil
	}
	return nil
}

// Close makes later calls to Record return ErrClosed. It does not close
// the underlying writer.
func (l *QueryLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	return l.err
}

// formatLogTime writes t in UTC with microseconds, the precision of
// PostgreSQL timestamps.
func formatLogTime(t time.Time) string {
	return t.UTC().Format(logTimeLayout)
}
