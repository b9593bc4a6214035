package ui

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jitgate/jitgate/store"
)

const (
	// pendingLimit bounds the pending requests read for one list. The store
	// lists the newest first, so older ones beyond it do not appear.
	pendingLimit = 500
	// mineLimit is how many of the viewer's own recent requests the list
	// shows.
	mineLimit = 20
)

// requestRow is one request in a list.
type requestRow struct {
	ID         int64
	State      string
	Requester  string
	Kind       string
	Target     string
	Principal  string
	Duration   time.Duration
	Trigger    string
	Reason     string
	Ticket     string
	Contract   string
	BreakGlass bool
	Created    time.Time
	Expires    time.Time
	// WhyNot is the reason the viewer cannot decide, shown in the
	// "other pending" list.
	WhyNot string
}

func newRequestRow(r *store.Request) requestRow {
	return requestRow{
		ID: r.ID, State: string(r.State), Requester: r.Requester, Kind: r.Kind,
		Target: r.Target, Principal: r.Principal, Duration: r.Duration,
		Trigger: r.Trigger, Reason: r.Reason, Ticket: r.Ticket, Contract: r.ContractID,
		BreakGlass: r.BreakGlass, Created: r.CreatedAt, Expires: r.ExpiresAt,
	}
}

// pendingData is the body of the requests page.
type pendingData struct {
	// Waiting are the pending requests the viewer may decide now.
	Waiting []requestRow
	// Others are pending requests the viewer may see but not decide, such
	// as those they already voted on.
	Others []requestRow
	// Mine are the viewer's own recent requests in any state.
	Mine []requestRow
}

// pendingPage handles GET /requests. With ?fragment=1 it returns only the
// lists, which the page's script swaps in after each change event.
func (u *ui) pendingPage(v *visit) error {
	data, err := u.pendingLists(v)
	if err != nil {
		return err
	}
	if v.r.URL.Query().Get("fragment") == "1" {
		u.renderFragment(v.w, v.r, "pending", "lists", data)
		return nil
	}
	return v.page(u, http.StatusOK, "pending", layout{Title: "Requests", Nav: "requests", Body: data})
}

func (u *ui) pendingLists(v *visit) (pendingData, error) {
	ctx := v.r.Context()
	var data pendingData
	pending, err := u.store.Requests(ctx, store.RequestFilter{
		States: []store.RequestState{store.RequestPending}, Limit: pendingLimit,
	})
	if err != nil {
		return data, fmt.Errorf("listing pending requests: %w", err)
	}
	now := u.clock.Now()
	for _, r := range pending {
		if r.Requester == v.person.Name || !u.manages(v.person, r.ContractID) || !now.Before(r.ExpiresAt) {
			continue
		}
		row := newRequestRow(r)
		err := u.opts.Engine.CanDecide(ctx, r.ID, v.person.Name)
		switch {
		case err == nil:
			data.Waiting = append(data.Waiting, row)
		case isPolicy(err):
			row.WhyNot = whyNoDecision(err, r, u.cfg.Contract(r.ContractID))
			data.Others = append(data.Others, row)
		default:
			return data, fmt.Errorf("checking whether %s may decide request %d: %w", v.person.Name, r.ID, err)
		}
	}
	mine, err := u.store.Requests(ctx, store.RequestFilter{Requester: v.person.Name, Limit: mineLimit})
	if err != nil {
		return data, fmt.Errorf("listing the requests of %s: %w", v.person.Name, err)
	}
	for _, r := range mine {
		data.Mine = append(data.Mine, newRequestRow(r))
	}
	return data, nil
}
