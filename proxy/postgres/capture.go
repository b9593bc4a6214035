package postgres

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
)

// maxRecordedParam caps the bytes of one parameter value kept in the
// query log with recording.parameters: on; longer values are cut.
const maxRecordedParam = 4096

// queryRecorder receives one event per statement. *recordings.QueryLog
// implements it.
type queryRecorder interface {
	Record(ev recordings.QueryEvent) error
}

// capture turns the relayed messages into query log events. The client
// pump reports statements as they are sent; the server pump reports their
// results, in the same order, as the protocol guarantees.
type capture struct {
	rec      queryRecorder
	params   string // recordings.ParamsOff, ParamsOn or ParamsRedacted
	redactor *recordings.Redactor
	clock    clock.Clock
	onError  func(error) // called once, for the first recording error

	// mu guards the fields below; both pumps use them.
	mu         sync.Mutex
	statements map[string]string    // prepared statement name to its text
	portals    map[string]portalRef // portal name to what it runs
	// queue[qhead:] is what was sent and waits for results, in order.
	// The slots before qhead are spent, and the array is reused once the
	// queue is empty, so a session allocates no queue per statement.
	queue  []statement
	qhead  int
	failed bool

	// lastTag is the command tag of the last CommandComplete, reused while
	// the tags repeat. Only the server pump uses it.
	lastTag string
}

// maxKeptQueue is the most queue slots kept once the queue is empty, 640
// bytes: a simple query takes two slots, with its own Sync. The larger
// array of a pipeline is released, so an idle session keeps little.
const maxKeptQueue = 8

type portalRef struct {
	text   string
	params []string
}

// statement is one Query, Execute or FunctionCall waiting for its result,
// or a Sync.
type statement struct {
	text   string
	params []string
	start  time.Time
	rows   int64
	simple bool // a Query, which may hold several statements and ends at ReadyForQuery
	sync   bool // a Sync, which ends a run of extended-protocol statements
}

func newCapture(rec queryRecorder, params string, redactor *recordings.Redactor, clk clock.Clock, onError func(error)) *capture {
	return &capture{
		rec: rec, params: params, redactor: redactor, clock: clk, onError: onError,
		statements: map[string]string{}, portals: map[string]portalRef{},
	}
}

// client inspects a message from the client.
func (c *capture) client(typ byte, body []byte, whole bool) {
	switch typ {
	case wire.MsgQuery:
		text, _ := wire.QueryText(body)
		c.push(statement{text: c.redactor.Redact(text), simple: true}, true)
	case wire.MsgParse:
		m, _ := wire.DecodeParse(body)
		c.mu.Lock()
		c.statements[m.Statement] = c.redactor.Redact(m.Query)
		c.mu.Unlock()
	case wire.MsgBind:
		c.bind(body, whole)
	case wire.MsgExecute:
		portal, _, _ := wire.DecodeExecute(body)
		c.mu.Lock()
		ref := c.portals[portal]
		c.mu.Unlock()
		c.push(statement{text: ref.text, params: ref.params}, false)
	case wire.MsgFunctionCall:
		c.push(statement{text: functionCallText(body), simple: true}, true)
	case wire.MsgSync:
		c.mu.Lock()
		c.enqueue(statement{sync: true})
		c.mu.Unlock()
	case wire.MsgClose:
		kind, name, _ := wire.DecodeClose(body)
		c.mu.Lock()
		if kind == 'S' {
			delete(c.statements, name)
		} else {
			delete(c.portals, name)
		}
		c.mu.Unlock()
	}
}

func (c *capture) bind(body []byte, whole bool) {
	m, complete := wire.DecodeBind(body, c.params != recordings.ParamsOff)
	var params []string
	if c.params != recordings.ParamsOff {
		params = c.recordedParams(m.Params)
		if !whole || !complete {
			params = append(params, "[more parameters not recorded]")
		}
	}
	c.mu.Lock()
	c.portals[m.Portal] = portalRef{text: c.statements[m.Statement], params: params}
	c.mu.Unlock()
}

// recordedParams renders parameter values in the contract's mode.
func (c *capture) recordedParams(values [][]byte) []string {
	if c.params != recordings.ParamsOn {
		return recordings.RedactParams(c.params, values)
	}
	cut := make([][]byte, len(values))
	for i, v := range values {
		cut[i] = v[:min(len(v), maxRecordedParam)]
	}
	out := recordings.RedactParams(c.params, cut)
	for i, v := range values {
		if len(v) > maxRecordedParam {
			out[i] += " [cut from " + strconv.Itoa(len(v)) + " bytes]"
		}
	}
	return out
}

func functionCallText(body []byte) string {
	if len(body) < 4 {
		return "function call"
	}
	oid := uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])
	return "function call, oid " + strconv.FormatUint(uint64(oid), 10)
}

// push queues a statement; a Query and a FunctionCall are followed by a
// Sync of their own.
func (c *capture) push(s statement, ownSync bool) {
	s.start = c.clock.Now()
	c.mu.Lock()
	c.enqueue(s)
	if ownSync {
		c.enqueue(statement{sync: true})
	}
	c.mu.Unlock()
}

// enqueue appends s to the queue. When the array is full and at least
// half of it is spent, it first moves the waiting entries to the front.
// c.mu must be held.
func (c *capture) enqueue(s statement) {
	if len(c.queue) == cap(c.queue) && c.qhead > 0 && c.qhead >= len(c.queue)/2 {
		n := copy(c.queue, c.queue[c.qhead:])
		clear(c.queue[n:])
		c.queue, c.qhead = c.queue[:n], 0
	}
	c.queue = append(c.queue, s)
}

// pop drops the entry at the head of the queue. c.mu must be held.
func (c *capture) pop() {
	c.queue[c.qhead] = statement{} // let go of its text and parameters
	c.qhead++
	if c.qhead < len(c.queue) {
		return
	}
	c.qhead = 0
	if cap(c.queue) > maxKeptQueue {
		c.queue = nil // release the array of a long pipeline
	} else {
		c.queue = c.queue[:0]
	}
}

// server inspects a message from the server.
func (c *capture) server(typ byte, body []byte, whole bool) {
	switch typ {
	case wire.MsgDataRow:
		c.mu.Lock()
		if s := c.head(); s != nil {
			s.rows++
		}
		c.mu.Unlock()
	case wire.MsgCommandComplete:
		c.complete(c.tag(body), "", "")
	case wire.MsgPortalSuspended:
		c.complete("", "", "")
	case wire.MsgEmptyQuery:
		c.complete("", "", "")
	case wire.MsgErrorResponse:
		f, _ := wire.DecodeError(body)
		c.complete("", f.Code, c.redactor.Redact(f.Message))
	case wire.MsgReadyForQuery:
		c.ready()
	}
}

// tag returns the command tag of a CommandComplete body. It returns the
// previous tag's string when the tag repeats, as it does for a repeated
// query, so that case allocates nothing.
func (c *capture) tag(body []byte) string {
	if i := bytes.IndexByte(body, 0); i >= 0 {
		body = body[:i]
	}
	if string(body) != c.lastTag {
		c.lastTag = string(body)
	}
	return c.lastTag
}

// head returns the statement whose results arrive now, or nil when the
// queue is empty or starts with a Sync. The pointer is valid while c.mu
// is held. c.mu must be held.
func (c *capture) head() *statement {
	if c.qhead == len(c.queue) || c.queue[c.qhead].sync {
		return nil
	}
	return &c.queue[c.qhead]
}

// complete records the head statement's result. An extended-protocol
// statement leaves the queue; a Query stays until ReadyForQuery, since it
// may hold several statements.
func (c *capture) complete(tag, code, message string) {
	c.mu.Lock()
	s := c.head()
	if s == nil {
		c.mu.Unlock()
		return // an error for a Parse or Bind without Execute
	}
	rows := s.rows
	if n, ok := wire.TagRows(tag); ok {
		rows = n
	}
	now := c.clock.Now()
	ev := recordings.QueryEvent{
		Start: s.start, Duration: now.Sub(s.start), Text: s.text, Params: s.params,
		Tag: tag, Rows: rows, ErrorCode: code, ErrorMessage: message,
	}
	if s.simple {
		s.start, s.rows = now, 0
	} else {
		c.pop()
	}
	c.mu.Unlock()
	c.record(ev)
}

// ready drops what the finished Sync or Query covered, including
// statements the server skipped after an error.
func (c *capture) ready() {
	c.mu.Lock()
	for c.qhead < len(c.queue) {
		endsRun := c.queue[c.qhead].sync
		c.pop()
		if endsRun {
			break
		}
	}
	c.mu.Unlock()
}

// abandon records each statement still waiting for its result when the
// session ends, such as a query that a window end cut, because the
// server sends no result for it. The line has no tag and no error code,
// and its message names the reason the session ended.
func (c *capture) abandon(reason session.Reason) {
	c.mu.Lock()
	queue := c.queue[c.qhead:]
	c.queue, c.qhead = nil, 0
	c.mu.Unlock()
	now := c.clock.Now()
	msg := "jitgate: no result, because the session ended first (" + string(reason) + ")"
	for _, s := range queue {
		if s.sync {
			continue
		}
		c.record(recordings.QueryEvent{
			Start: s.start, Duration: now.Sub(s.start), Text: s.text, Params: s.params,
			Rows: s.rows, ErrorMessage: msg,
		})
	}
}

func (c *capture) record(ev recordings.QueryEvent) {
	if err := c.rec.Record(ev); err != nil {
		c.fail(err)
	}
}

func (c *capture) fail(err error) {
	c.mu.Lock()
	first := !c.failed
	c.failed = true
	c.mu.Unlock()
	if first && c.onError != nil {
		c.onError(err)
	}
}
