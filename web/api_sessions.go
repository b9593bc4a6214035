package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/store"
)

var sessionStates = []store.SessionState{store.SessionOpen, store.SessionClosed}

// listSessions handles GET /sessions?state=open&mine=true&limit=N, newest
// first. Live is set on the sessions this process relays now.
func (a *api) listSessions(c *call) error {
	states, err := parseStates(c.r, sessionStates)
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

	f := store.SessionFilter{States: states}
	if mine || !a.managesAny(c.person) {
		f.Person, f.Limit = c.person.Name, limit
	}
	ss, err := a.opts.Store.Sessions(c.r.Context(), f)
	if err != nil {
		return fmt.Errorf("listing sessions: %w", err)
	}
	live := a.liveSessions()
	contracts := map[int64]string{} // grant id -> contract id
	out := ListView[SessionView]{Items: []SessionView{}}
	for _, s := range ss {
		if len(out.Items) == limit {
			break
		}
		ok, err := a.maySeeSession(c.r.Context(), c.person, s, contracts)
		if err != nil {
			return err
		}
		if ok {
			out.Items = append(out.Items, sessionView(s, live[s.ID]))
		}
	}
	return c.reply(http.StatusOK, out)
}

// maySeeSession applies maySee with the contract of the session's grant,
// caching grant lookups in contracts.
func (a *api) maySeeSession(ctx context.Context, p *identity.Person, s *store.Session, contracts map[int64]string) (bool, error) {
	if s.Person == p.Name {
		return true, nil
	}
	id, ok := contracts[s.GrantID]
	if !ok {
		g, err := a.opts.Store.Grant(ctx, s.GrantID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("reading grant %d of session %d: %w", s.GrantID, s.ID, err)
		}
		if g != nil {
			id = g.ContractID
		}
		contracts[s.GrantID] = id
	}
	return a.manages(p, id), nil
}

func (a *api) liveSessions() map[int64]bool {
	live := map[int64]bool{}
	if a.opts.Registry == nil {
		return live
	}
	for _, l := range a.opts.Registry.List() {
		live[l.ID()] = true
	}
	return live
}
