package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/web"
)

// NewAuditChain adapts package audit to the web.AuditChain that the API and
// `jitgate audit` use, over the events in r.
func NewAuditChain(r store.Reader) web.AuditChain { return auditChain{r} }

type auditChain struct{ r store.Reader }

// Verify reports a broken link as a finding (OK false, nil error); only a
// failure to read the events is an error.
func (a auditChain) Verify(ctx context.Context) (web.AuditReport, error) {
	report, err := audit.Verify(ctx, a.r)
	if report == nil {
		return web.AuditReport{}, err
	}
	out := web.AuditReport{OK: report.Broken == nil, Events: report.Events, Head: report.Head}
	if b := report.Broken; b != nil {
		out.BrokenSeq = b.Seq
		out.Problem = fmt.Sprintf("%s event: %s", b.Type, b.Reason)
		out.Head = ""
		return out, nil
	}
	return out, err
}

func (a auditChain) Export(ctx context.Context, w io.Writer, since, until time.Time, format string) error {
	return audit.Export(ctx, a.r, store.EventFilter{Since: since, Until: until}, format, w)
}
