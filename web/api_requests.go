package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

// Bounds of GET /requests/{id}/wait. The cap stays well under the idle
// timeouts of common reverse proxies (60 s in nginx) minus a margin.
const (
	defaultWait = 30 * time.Second
	maxWait     = 55 * time.Second
)

var requestStates = []store.RequestState{
	store.RequestPending, store.RequestApproved, store.RequestDenied,
	store.RequestExpired, store.RequestCancelled,
}

// createRequest handles POST /requests. It responds 201 with the new
// request, or 200 when the call joined a request already pending for the
// same person, target and principal. A break-glass request comes back
// approved with its grant.
func (a *api) createRequest(c *call) error {
	var body CreateRequestBody
	if err := decodeBody(c.w, c.r, &body, false); err != nil {
		return err
	}
	ask, err := a.askFrom(c.person.Name, body)
	if err != nil {
		return err
	}
	out, err := a.opts.Engine.Submit(c.r.Context(), ask)
	if err != nil {
		return err
	}

	v := requestView(out.Request, a.opts.Config.PublicURL)
	v.Joined = out.Joined
	if out.Grant != nil {
		v.Grant = grantView(out.Grant)
	}
	c.log.Info("request submitted", "request", out.Request.ID, "joined", out.Joined, "break_glass", ask.BreakGlass)
	status := http.StatusCreated
	if out.Joined {
		status = http.StatusOK
	}
	return c.reply(status, v)
}

// askFrom checks the body's fields and turns them into an approval.Ask.
func (a *api) askFrom(requester string, body CreateRequestBody) (approval.Ask, error) {
	if body.Target == "" {
		return approval.Ask{}, invalid("field target is missing; name the SSH host or Postgres server to access")
	}
	if body.Principal == "" {
		return approval.Ask{}, invalid("field principal is missing; give the SSH login or the Postgres role to use on %s", body.Target)
	}
	kind, err := a.targetKind(body.Target, body.Kind)
	if err != nil {
		return approval.Ask{}, err
	}
	duration, err := optionalDuration("duration", body.Duration)
	if err != nil {
		return approval.Ask{}, err
	}
	return approval.Ask{
		Requester: requester, Kind: kind, Target: body.Target, Principal: body.Principal,
		Duration: duration, Trigger: body.Trigger, Reason: body.Reason, Ticket: body.Ticket,
		ContractID: body.Contract, BreakGlass: body.BreakGlass,
	}, nil
}

// targetKind checks kind against the configured targets, or infers it from
// the target list that has the name.
func (a *api) targetKind(target, kind string) (string, error) {
	isSSH := a.opts.Config.SSHTarget(target) != nil
	isPG := a.opts.Config.PGTarget(target) != nil
	switch {
	case kind == approval.KindSSH && isSSH, kind == approval.KindPostgres && isPG:
		return kind, nil
	case kind != "" && kind != approval.KindSSH && kind != approval.KindPostgres:
		return "", invalid("field kind is %q; use ssh or postgres, or leave it out", kind)
	case kind != "":
		return "", invalid("no %s target is named %q", kind, target)
	case isSSH && isPG:
		return "", invalid("%q names both an SSH and a Postgres target; set kind to ssh or postgres", target)
	case isSSH:
		return approval.KindSSH, nil
	case isPG:
		return approval.KindPostgres, nil
	}
	return "", invalid("no SSH or Postgres target is named %q", target)
}

// optionalDuration parses a duration field; empty means 0.
func optionalDuration(field, raw string) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	d, err := configs.ParseDuration(raw)
	if err != nil {
		return 0, invalid("field %s: %v", field, err)
	}
	return d.Std(), nil
}

// listRequests handles GET /requests?state=pending,approved&mine=true&limit=N,
// newest first.
func (a *api) listRequests(c *call) error {
	states, err := parseStates(c.r, requestStates)
	if err != nil {
		return err
	}
	mine, err := queryBool(c.r, "mine")
	if err != nil {
		return err
	}
	limit, err := queryLimit(c.r)
	if err != nil {
		return err
	}

	// NOTE: for an approver the store returns every matching request, and
	// the visibility filter runs here. A store filter by contract would
	// scale better once lists grow to many thousands.
	f := store.RequestFilter{States: states}
	if mine || !a.managesAny(c.person) {
		f.Requester, f.Limit = c.person.Name, limit
	}
	rs, err := a.opts.Store.Requests(c.r.Context(), f)
	if err != nil {
		return fmt.Errorf("listing requests: %w", err)
	}
	out := ListView[RequestView]{Items: []RequestView{}}
	for _, r := range rs {
		if len(out.Items) == limit {
			break
		}
		if a.maySee(c.person, r.Requester, r.ContractID) {
			out.Items = append(out.Items, requestView(r, a.opts.Config.PublicURL))
		}
	}
	return c.reply(http.StatusOK, out)
}

// showRequest handles GET /requests/{id}: the request with its decisions
// and, once approved, its grant.
func (a *api) showRequest(c *call) error {
	r, err := a.visibleRequest(c)
	if err != nil {
		return err
	}
	v, err := a.requestDetail(c.r.Context(), r)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, v)
}

// visibleRequest loads the {id} request and checks that the caller may
// see it.
func (a *api) visibleRequest(c *call) (*store.Request, error) {
	id, err := pathID(c.r, "request")
	if err != nil {
		return nil, err
	}
	r, err := a.opts.Store.Request(c.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("request %d does not exist", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %d: %w", id, err)
	}
	if !a.maySee(c.person, r.Requester, r.ContractID) {
		return nil, forbidden("%s may see only their own requests and those under contracts they approve; request %d is %s's under contract %s",
			c.person.Name, r.ID, r.Requester, r.ContractID)
	}
	return r, nil
}

// requestDetail adds the decisions and the grant to the request's view.
func (a *api) requestDetail(ctx context.Context, r *store.Request) (RequestView, error) {
	v := requestView(r, a.opts.Config.PublicURL)
	ds, err := a.opts.Store.Decisions(ctx, r.ID)
	if err != nil {
		return v, fmt.Errorf("reading decisions of request %d: %w", r.ID, err)
	}
	for _, d := range ds {
		v.Decisions = append(v.Decisions, decisionView(d))
	}
	if r.State != store.RequestApproved {
		return v, nil
	}
	g, err := a.opts.Store.GrantByRequest(ctx, r.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return v, fmt.Errorf("reading the grant of request %d: %w", r.ID, err)
	}
	if g != nil {
		v.Grant = grantView(g)
	}
	return v, nil
}

// approveRequest handles POST /requests/{id}/approve.
func (a *api) approveRequest(c *call) error { return a.decide(c, true) }

// denyRequest handles POST /requests/{id}/deny.
func (a *api) denyRequest(c *call) error { return a.decide(c, false) }

func (a *api) decide(c *call, approve bool) error {
	id, err := pathID(c.r, "request")
	if err != nil {
		return err
	}
	var body DecideBody
	if err := decodeBody(c.w, c.r, &body, true); err != nil {
		return err
	}
	if !approve && body.MaxDuration != "" {
		return invalid("field max_duration narrows an approval; leave it out when denying")
	}
	maxDuration, err := optionalDuration("max_duration", body.MaxDuration)
	if err != nil {
		return err
	}

	out, err := a.opts.Engine.Decide(c.r.Context(), approval.Vote{
		RequestID: id, Approver: c.person.Name, Approve: approve,
		Comment: body.Comment, MaxDuration: maxDuration,
	})
	if err != nil {
		return err
	}
	c.log.Info("vote recorded", "request", id, "approve", approve, "state", out.Request.State)
	v, err := a.requestDetail(c.r.Context(), out.Request)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, v)
}

// cancelRequest handles POST /requests/{id}/cancel.
func (a *api) cancelRequest(c *call) error {
	id, err := pathID(c.r, "request")
	if err != nil {
		return err
	}
	var body ReasonBody
	if err := decodeBody(c.w, c.r, &body, true); err != nil {
		return err
	}
	r, err := a.opts.Engine.Cancel(c.r.Context(), id, c.person.Name, body.Reason)
	if err != nil {
		return err
	}
	c.log.Info("request cancelled", "request", id)
	return c.reply(http.StatusOK, requestView(r, a.opts.Config.PublicURL))
}

// waitRequest handles GET /requests/{id}/wait?timeout=30s, a long poll:
// it responds as soon as the request leaves the pending state, or after
// the timeout with decided=false. The engine wakes it on the decision, so
// the response follows within milliseconds.
func (a *api) waitRequest(c *call) error {
	r, err := a.visibleRequest(c)
	if err != nil {
		return err
	}
	timeout, err := waitTimeout(c.r)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(c.r.Context(), timeout)
	defer cancel()
	decided, _, err := a.opts.Engine.WaitDecision(ctx, r.ID)
	timedOut := errors.Is(err, context.DeadlineExceeded) && c.r.Context().Err() == nil
	if err != nil && !timedOut {
		return err
	}
	if decided != nil {
		r = decided
	}
	v, err := a.requestDetail(c.r.Context(), r)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, WaitView{Decided: r.State != store.RequestPending, Request: v})
}

func waitTimeout(r *http.Request) (time.Duration, error) {
	raw := r.URL.Query().Get("timeout")
	if raw == "" {
		return defaultWait, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > maxWait {
		return 0, badRequest("query parameter timeout=%q must be a duration above 0 and at most %s, such as 30s", raw, maxWait)
	}
	return d, nil
}

// parseStates reads the state query parameter: a comma-separated list,
// or the parameter repeated. No state means all.
func parseStates[S ~string](r *http.Request, allowed []S) ([]S, error) {
	var out []S
	for _, raw := range r.URL.Query()["state"] {
		for _, name := range strings.Split(raw, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !slices.Contains(allowed, S(name)) {
				return nil, badRequest("query parameter state=%q is not a state; use one of: %s", name, joinStates(allowed))
			}
			out = append(out, S(name))
		}
	}
	return out, nil
}

func joinStates[S ~string](list []S) string {
	names := make([]string, len(list))
	for i, s := range list {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
