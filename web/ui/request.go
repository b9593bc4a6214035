package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/store"
)

// shorterWindows are the windows an approver may pick instead of the one
// requested. The form offers those shorter than both the request and the
// contract's maximum.
var shorterWindows = []time.Duration{
	5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour,
}

// requestData is the body of the request page.
type requestData struct {
	Request   *store.Request
	Requester *identity.Person // nil when the person left the config
	// Contract is nil when the request's contract is no longer configured.
	Contract *termsView
	// ContractChanged is set when the configured contract differs from the
	// version the request was made under.
	ContractChanged bool
	// Stage describes the open stage, as "stage 1 of 2 (security)". It is
	// empty for a contract with one stage.
	Stage string
	// MaxWindow is the contract's maximum window.
	MaxWindow time.Duration
	Decisions []*store.Decision
	Grant     *store.Grant
	// CanDecide shows the decision form. WhyNot is the reason it is
	// missing.
	CanDecide bool
	WhyNot    string
	Windows   []time.Duration
	// CanCancel shows the requester's cancel form.
	CanCancel bool
}

// requestPage handles GET /requests/{id}.
func (u *ui) requestPage(v *visit) error {
	id, ok := v.pathID()
	if !ok {
		return v.notFound(u, "request")
	}
	return u.showRequest(v, id, http.StatusOK, "")
}

// showRequest renders the request page with status and an error banner.
func (u *ui) showRequest(v *visit, id int64, status int, banner string) error {
	r, found, err := u.visibleRequest(v, id)
	if err != nil || !found {
		return err
	}
	data, err := u.requestDetail(v, r)
	if err != nil {
		return err
	}
	return v.page(u, status, "request", layout{
		Title: fmt.Sprintf("Request %d", r.ID), Nav: "requests", Error: banner, Body: data,
	})
}

// visibleRequest loads request id and checks that the viewer may see it.
// When found is false, it has already rendered a 404 page.
func (u *ui) visibleRequest(v *visit, id int64) (r *store.Request, found bool, err error) {
	r, err = u.store.Request(v.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, v.notFound(u, "request")
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading request %d: %w", id, err)
	}
	if !u.maySee(v.person, r.Requester, r.ContractID) {
		// The same page as for a missing request, so ids of other
		// people's requests reveal nothing.
		return nil, false, v.notFound(u, "request")
	}
	return r, true, nil
}

func (u *ui) requestDetail(v *visit, r *store.Request) (requestData, error) {
	ctx := v.r.Context()
	data := requestData{Request: r}
	data.Requester, _ = u.opts.Identity.Person(r.Requester)
	c := u.cfg.Contract(r.ContractID)
	if c != nil {
		terms := describeContract(c)
		data.Contract = &terms
		data.ContractChanged = terms.Hash != r.ContractHash
		data.MaxWindow = c.Window.Max.Std()
		if stages := c.Stages(); len(stages) > 1 && r.Stage < len(stages) {
			data.Stage = fmt.Sprintf("stage %d of %d (%s)", r.Stage+1, len(stages), stages[r.Stage].Name)
		}
	}

	var err error
	data.Decisions, err = u.store.Decisions(ctx, r.ID)
	if err != nil {
		return data, fmt.Errorf("reading the decisions of request %d: %w", r.ID, err)
	}
	if r.State == store.RequestApproved {
		data.Grant, err = u.store.GrantByRequest(ctx, r.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return data, fmt.Errorf("reading the grant of request %d: %w", r.ID, err)
		}
	}

	err = u.opts.Engine.CanDecide(ctx, r.ID, v.person.Name)
	switch {
	case err == nil:
		data.CanDecide = true
		data.Windows = windowChoices(r.Duration, data.MaxWindow)
	case isPolicy(err):
		data.WhyNot = whyNoDecision(err, r, c)
	default:
		return data, fmt.Errorf("checking whether %s may decide request %d: %w", v.person.Name, r.ID, err)
	}
	data.CanCancel = r.State == store.RequestPending && r.Requester == v.person.Name
	return data, nil
}

// windowChoices lists the shorter windows an approver may grant.
func windowChoices(requested, contractMax time.Duration) []time.Duration {
	limit := requested
	if contractMax > 0 && contractMax < limit {
		limit = contractMax
	}
	var out []time.Duration
	for _, d := range shorterWindows {
		if d < limit {
			out = append(out, d)
		}
	}
	return out
}

// pathID reads the {id} path value.
func (v *visit) pathID() (int64, bool) {
	id, err := strconv.ParseInt(v.r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// notFound renders the 404 page for a missing or hidden record of the
// named kind, such as "request".
func (v *visit) notFound(u *ui, recordKind string) error {
	return v.page(u, http.StatusNotFound, "error", layout{
		Title: "Not found",
		Body:  fmt.Sprintf("There is no %s %s that you may see.", recordKind, v.r.PathValue("id")),
	})
}
