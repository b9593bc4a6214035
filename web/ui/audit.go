package ui

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jitgate/jitgate/store"
)

// maxAuditEvents bounds the events one audit page shows.
const maxAuditEvents = 2000

// auditRow is one audit event as the page shows it.
type auditRow struct {
	Seq       int64
	Time      time.Time
	Type      string
	Actor     string
	GrantID   int64
	SessionID int64
	// Details is the event's JSON object, indented.
	Details string
	Hash    string
}

// auditData is the body of the audit page.
type auditData struct {
	Request   *store.Request
	Events    []auditRow
	Truncated bool
}

// errTooManyEvents stops the event scan at maxAuditEvents.
var errTooManyEvents = errors.New("too many events")

// auditPage handles GET /requests/{id}/audit: the events recorded with the
// request's id, and those of its grant, which include its sessions.
func (u *ui) auditPage(v *visit) error {
	id, ok := v.pathID()
	if !ok {
		return v.notFound(u, "request")
	}
	r, found, err := u.visibleRequest(v, id)
	if err != nil || !found {
		return err
	}

	data := auditData{Request: r}
	data.Events, data.Truncated, err = u.requestEvents(v.r.Context(), r)
	if err != nil {
		return err
	}
	return v.page(u, http.StatusOK, "audit", layout{
		Title: fmt.Sprintf("Audit trail of request %d", r.ID), Nav: "requests", Body: data,
	})
}

// requestEvents returns the events of request r and of its grant, oldest
// first and at most maxAuditEvents of them. truncated reports whether the
// list was cut.
func (u *ui) requestEvents(ctx context.Context, r *store.Request) (rows []auditRow, truncated bool, err error) {
	filters := []store.EventFilter{{RequestID: r.ID}}
	g, err := u.store.GrantByRequest(ctx, r.ID)
	switch {
	case err == nil:
		filters = append(filters, store.EventFilter{GrantID: g.ID})
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, fmt.Errorf("reading the grant of request %d: %w", r.ID, err)
	}

	seen := map[int64]bool{}
	collect := func(e *store.Event) error {
		if seen[e.Seq] {
			return nil
		}
		if len(seen) == maxAuditEvents {
			return errTooManyEvents
		}
		seen[e.Seq] = true
		rows = append(rows, newAuditRow(e))
		return nil
	}
	for _, f := range filters {
		err := u.store.Events(ctx, f, collect)
		if errors.Is(err, errTooManyEvents) {
			truncated = true
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading the audit events of request %d: %w", r.ID, err)
		}
	}
	slices.SortFunc(rows, func(a, b auditRow) int { return cmp.Compare(a.Seq, b.Seq) })
	return rows, truncated, nil
}

func newAuditRow(e *store.Event) auditRow {
	row := auditRow{
		Seq: e.Seq, Time: e.Time, Type: e.Type, Actor: e.Actor,
		GrantID: e.GrantID, SessionID: e.SessionID, Hash: e.Hash,
	}
	var pretty bytes.Buffer
	if len(e.Details) > 0 && json.Indent(&pretty, e.Details, "", "  ") == nil && pretty.String() != "{}" && pretty.String() != "null" {
		row.Details = pretty.String()
	}
	return row
}
