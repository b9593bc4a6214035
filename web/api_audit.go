package web

import (
	"context"
	"io"
	"net/http"
	"time"
)

// AuditChain verifies and exports the hash-chained audit log. The server
// assembly adapts package audit to it.
type AuditChain interface {
	// Verify walks the whole chain and reports the first broken link.
	Verify(ctx context.Context) (AuditReport, error)
	// Export writes the events with a time in [since, until) to w, oldest
	// first, as format "jsonl" or "csv". A zero bound is open.
	Export(ctx context.Context, w io.Writer, since, until time.Time, format string) error
}

// AuditReport is the outcome of a chain verification, and the body of
// GET /api/v1/audit/verify.
type AuditReport struct {
	OK bool `json:"ok"`
	// Events is the number of events checked.
	Events int64 `json:"events"`
	// Head is the hash of the last event, which a later verification can
	// compare against a copy kept elsewhere.
	Head string `json:"head,omitempty"`
	// BrokenSeq is the sequence number of the first event that fails the
	// check, 0 when OK.
	BrokenSeq int64 `json:"broken_seq,omitempty"`
	// Problem describes what is wrong with that event.
	Problem string `json:"problem,omitempty"`
}

// exportTypes are the content types of the export formats.
var exportTypes = map[string]string{
	"jsonl": "application/jsonl; charset=utf-8",
	"csv":   "text/csv; charset=utf-8",
}

// verifyAudit handles GET /audit/verify. A broken chain is a finding, not
// a failed call, so it returns 200 with ok false.
func (a *api) verifyAudit(c *call) error {
	if err := a.checkAuditor(c); err != nil {
		return err
	}
	report, err := a.opts.Audit.Verify(c.r.Context())
	if err != nil {
		return err
	}
	if !report.OK {
		c.log.Warn("audit chain verification failed", "seq", report.BrokenSeq, "problem", report.Problem)
	}
	return c.reply(http.StatusOK, report)
}

// exportAudit handles GET /audit/export?since=&until=&format=jsonl|csv and
// streams the events. A failure after the first byte aborts the response,
// so the client sees a broken transfer rather than a short export that
// looks complete.
func (a *api) exportAudit(c *call) error {
	if err := a.checkAuditor(c); err != nil {
		return err
	}
	q := c.r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "jsonl"
	}
	contentType, ok := exportTypes[format]
	if !ok {
		return badRequest("query parameter format=%q is not supported; use jsonl or csv", format)
	}
	since, err := queryTime(c.r, "since")
	if err != nil {
		return err
	}
	until, err := queryTime(c.r, "until")
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return badRequest("until (%s) must be after since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}

	c.w.Header().Set("Content-Type", contentType)
	c.w.Header().Set("Cache-Control", "no-store")
	out := &countingWriter{w: c.w}
	err = a.opts.Audit.Export(c.r.Context(), out, since, until, format)
	if err == nil {
		return nil
	}
	if out.n == 0 {
		c.w.Header().Del("Content-Type")
		return err
	}
	c.log.Error("audit export failed after it started; aborting the response", "bytes_sent", out.n, "err", err)
	panic(http.ErrAbortHandler)
}

// checkAuditor refuses the audit endpoints to people who approve or review
// under no contract, and returns 404 when the server has no audit chain.
func (a *api) checkAuditor(c *call) error {
	if a.opts.Audit == nil {
		return notFound("this server does not serve the audit log")
	}
	if !a.mayAudit(c.person) {
		return forbidden("%s approves under no contract, so may not read the audit log", c.person.Name)
	}
	return nil
}

// queryTime parses an RFC 3339 time or a date (2006-01-02, start of that
// day in UTC); empty gives the zero time.
func queryTime(r *http.Request, name string) (time.Time, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest("query parameter %s=%q must be an RFC 3339 time such as 2026-03-01T00:00:00Z or a date such as 2026-03-01", name, raw)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}
