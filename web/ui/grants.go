package ui

import (
	"fmt"
	"net/http"

	"github.com/jitgate/jitgate/store"
)

// grantsLimit bounds the active grants one page shows.
const grantsLimit = 500

// grantRow is one active grant with its live sessions.
type grantRow struct {
	Grant    *store.Grant
	Sessions []store.Session
	// CanRevoke shows the revoke form. WhyNot is the reason it is missing.
	CanRevoke bool
	WhyNot    string
}

// grantsData is the body of the grants page.
type grantsData struct {
	Grants []grantRow
	// SessionsFromStore is set when this process has no session registry,
	// so the sessions come from the store (every replica's).
	SessionsFromStore bool
}

// grantsPage handles GET /grants: the active grants the viewer may see,
// each with its live sessions and a revoke form.
func (u *ui) grantsPage(v *visit) error { return u.showGrants(v, http.StatusOK, "") }

// showGrants renders the grants page with status and an error banner.
func (u *ui) showGrants(v *visit, status int, banner string) error {
	data, err := u.grantsList(v)
	if err != nil {
		return err
	}
	return v.page(u, status, "grants", layout{Title: "Grants", Nav: "grants", Error: banner, Body: data})
}

func (u *ui) grantsList(v *visit) (grantsData, error) {
	ctx := v.r.Context()
	var data grantsData
	grants, err := u.store.Grants(ctx, store.GrantFilter{
		States: []store.GrantState{store.GrantActive}, ActiveAt: u.clock.Now(), Limit: grantsLimit,
	})
	if err != nil {
		return data, fmt.Errorf("listing active grants: %w", err)
	}
	live, err := u.liveSessions(v)
	if err != nil {
		return data, err
	}
	data.SessionsFromStore = u.opts.Registry == nil
	for _, g := range grants {
		if !u.maySee(v.person, g.Requester, g.ContractID) {
			continue
		}
		row := grantRow{Grant: g, Sessions: live[g.ID]}
		c := u.cfg.Contract(g.ContractID)
		switch {
		case g.Requester == v.person.Name, c != nil && approvesAtStage(c, v.person):
			row.CanRevoke = true
		default:
			row.WhyNot = fmt.Sprintf("Only %s and the approvers of contract %s can revoke this grant.", g.Requester, g.ContractID)
		}
		data.Grants = append(data.Grants, row)
	}
	return data, nil
}

// liveSessions returns the live sessions by grant id: those of this
// process's registry, or the open sessions in the store without one.
func (u *ui) liveSessions(v *visit) (map[int64][]store.Session, error) {
	out := map[int64][]store.Session{}
	if u.opts.Registry != nil {
		for _, l := range u.opts.Registry.List() {
			s := l.Session()
			out[s.GrantID] = append(out[s.GrantID], s)
		}
		return out, nil
	}
	open, err := u.store.Sessions(v.r.Context(), store.SessionFilter{States: []store.SessionState{store.SessionOpen}})
	if err != nil {
		return nil, fmt.Errorf("listing open sessions: %w", err)
	}
	for _, s := range open {
		out[s.GrantID] = append(out[s.GrantID], *s)
	}
	return out, nil
}

// revoke handles POST /grants/{id}/revoke. The engine checks that the
// viewer is the grantee or an approver of the grant's contract. Live
// sessions end once the registry's watch on the grant wakes on the change.
func (u *ui) revoke(v *visit) error {
	id, ok := v.pathID()
	if !ok {
		return v.notFound(u, "grant")
	}
	reason, err := formText(v.r, "reason")
	if err != nil {
		return u.showGrants(v, http.StatusBadRequest, sentence(err))
	}
	_, err = u.opts.Engine.Revoke(v.r.Context(), id, v.person.Name, reason)
	if isPolicy(err) {
		v.log.Info("revoke rejected", "grant", id, "reason", err)
		return u.showGrants(v, policyStatus(err), sentence(err))
	}
	if err != nil {
		return fmt.Errorf("revoking grant %d for %s: %w", id, v.person.Name, err)
	}
	v.log.Info("grant revoked", "grant", id)
	return v.redirect("/grants")
}
