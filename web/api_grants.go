package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jitgate/jitgate/store"
)

var grantStates = []store.GrantState{store.GrantActive, store.GrantRevoked, store.GrantEnded}

// listGrants handles GET /grants?state=active&mine=true&limit=N, newest
// first.
func (a *api) listGrants(c *call) error {
	states, err := parseStates(c.r, grantStates)
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

	f := store.GrantFilter{States: states}
	if mine || !a.managesAny(c.person) {
		f.Requester, f.Limit = c.person.Name, limit
	}
	gs, err := a.opts.Store.Grants(c.r.Context(), f)
	if err != nil {
		return fmt.Errorf("listing grants: %w", err)
	}
	out := ListView[*GrantView]{Items: []*GrantView{}}
	for _, g := range gs {
		if len(out.Items) == limit {
			break
		}
		if a.maySee(c.person, g.Requester, g.ContractID) {
			out.Items = append(out.Items, grantView(g))
		}
	}
	return c.reply(http.StatusOK, out)
}

// showGrant handles GET /grants/{id}.
func (a *api) showGrant(c *call) error {
	id, err := pathID(c.r, "grant")
	if err != nil {
		return err
	}
	g, err := a.opts.Store.Grant(c.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("grant %d does not exist", id)
	}
	if err != nil {
		return fmt.Errorf("reading grant %d: %w", id, err)
	}
	if !a.maySee(c.person, g.Requester, g.ContractID) {
		return forbidden("%s may see only their own grants and those under contracts they approve; grant %d is %s's under contract %s",
			c.person.Name, g.ID, g.Requester, g.ContractID)
	}
	return c.reply(http.StatusOK, grantView(g))
}

// revokeGrant handles POST /grants/{id}/revoke. The grantee and the
// contract's approvers may revoke; live sessions end at once.
func (a *api) revokeGrant(c *call) error {
	id, err := pathID(c.r, "grant")
	if err != nil {
		return err
	}
	var body ReasonBody
	if err := decodeBody(c.w, c.r, &body, true); err != nil {
		return err
	}
	g, err := a.opts.Engine.Revoke(c.r.Context(), id, c.person.Name, body.Reason)
	if err != nil {
		return err
	}
	c.log.Info("grant revoked", "grant", id, "request", g.RequestID)
	return c.reply(http.StatusOK, grantView(g))
}

// extendGrant handles POST /grants/{id}/extend with {"by":"30m"}.
func (a *api) extendGrant(c *call) error {
	id, err := pathID(c.r, "grant")
	if err != nil {
		return err
	}
	var body ExtendBody
	if err := decodeBody(c.w, c.r, &body, false); err != nil {
		return err
	}
	if body.By == "" {
		return invalid("field by is missing; give the extension as a duration such as 30m")
	}
	by, err := optionalDuration("by", body.By)
	if err != nil {
		return err
	}
	g, err := a.opts.Engine.Extend(c.r.Context(), id, c.person.Name, by, body.Reason)
	if err != nil {
		return err
	}
	c.log.Info("grant extended", "grant", id, "request", g.RequestID, "by", by, "end", g.End)
	return c.reply(http.StatusOK, grantView(g))
}

// reviewGrant handles POST /grants/{id}/review, the post-review of a
// break-glass grant.
func (a *api) reviewGrant(c *call) error {
	id, err := pathID(c.r, "grant")
	if err != nil {
		return err
	}
	var body ReviewBody
	if err := decodeBody(c.w, c.r, &body, true); err != nil {
		return err
	}
	g, err := a.opts.Engine.Review(c.r.Context(), id, c.person.Name, body.Comment)
	if err != nil {
		return err
	}
	c.log.Info("grant reviewed", "grant", id, "request", g.RequestID)
	return c.reply(http.StatusOK, grantView(g))
}
