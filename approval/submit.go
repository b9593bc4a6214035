package approval

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/store"
)

// Kinds of target.
const (
	KindSSH      = "ssh"
	KindPostgres = "postgres"
)

// Ask is a person's request for access before it is checked.
type Ask struct {
	Requester string
	Kind      string // KindSSH or KindPostgres
	Target    string
	// Principal is the SSH login or the Postgres role.
	Principal string
	// Duration is the window asked for; 0 means the contract's default.
	Duration time.Duration
	Trigger  string
	Reason   string
	Ticket   string
	// ContractID picks a contract when several cover the ask; empty means
	// the first eligible contract in file order.
	ContractID string
	BreakGlass bool
}

// Submitted is the result of Submit.
type Submitted struct {
	Request *store.Request
	// Joined is true when the ask joined a request already pending for the
	// same person, target and principal instead of opening a new one.
	Joined bool
	// Grant is set when the request was granted at once (break-glass).
	Grant *store.Grant
}

// Submit checks the ask against the contracts and opens a request, joins a
// pending one for the same person, target and principal, or, for
// break-glass, grants at once. A refusal is a *PolicyError.
func (e *Engine) Submit(ctx context.Context, ask Ask) (*Submitted, error) {
	now := e.clock.Now()
	c, err := e.findContract(ask, now)
	if err != nil {
		return nil, err
	}
	if err := checkRules(c, ask); err != nil {
		return nil, err
	}
	if ask.BreakGlass {
		return e.breakGlass(ctx, c, ask, now)
	}
	if h := c.Window.Hours; h != nil && !h.Permitted(now) {
		return nil, refuse(ErrOutsideHours, "contract %s permits access only %s; the next permitted time is %s",
			c.ID, describeHours(h), h.Next(now).Format(time.RFC1123))
	}
	if ask.Duration < 0 {
		return nil, refuse(ErrInvalid, "duration %s is negative; ask for a positive duration such as 30m", ask.Duration)
	}
	var out Submitted
	err = e.update(ctx, func(tx store.Tx) error {
		out = Submitted{}
		same, err := tx.Requests(ctx, store.RequestFilter{
			States: []store.RequestState{store.RequestPending}, Requester: ask.Requester,
			Kind: ask.Kind, Target: ask.Target, Principal: ask.Principal, Limit: 1,
		})
		if err != nil {
			return err
		}
		if len(same) > 0 && same[0].ExpiresAt.After(now) {
			out.Request, out.Joined = same[0], true
			return e.record(ctx, tx, audit.RequestJoined, ask.Requester, same[0], nil, nil)
		}
		r := newRequest(c, ask, now)
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		out.Request = r
		if err := e.record(ctx, tx, audit.RequestCreated, ask.Requester, r, nil, requestDetails(r)); err != nil {
			return err
		}
		return e.notify(ctx, tx, Notice{Event: "request.created", Actor: ask.Requester, Request: r})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: opening request: %w", err)
	}
	if !out.Joined {
		e.armRequest(out.Request)
		e.log.Info("request opened", "request", out.Request.ID, "requester", ask.Requester,
			"target", ask.Target, "principal", ask.Principal, "contract", c.ID)
	}
	return &out, nil
}

func newRequest(c *configs.Contract, ask Ask, now time.Time) *store.Request {
	d := ask.Duration
	if d == 0 {
		d = c.Window.Default.Std()
	}
	return &store.Request{
		State: store.RequestPending, Requester: ask.Requester,
		Kind: ask.Kind, Target: ask.Target, Principal: ask.Principal,
		Duration: d, Trigger: ask.Trigger, Reason: ask.Reason, Ticket: ask.Ticket,
		ContractID: c.ID, ContractVersion: c.Version, ContractHash: c.Hash(),
		CreatedAt: now, ExpiresAt: now.Add(c.Approval.PendingTTL.Std()),
	}
}

func requestDetails(r *store.Request) map[string]any {
	return map[string]any{
		"kind": r.Kind, "target": r.Target, "principal": r.Principal,
		"duration": r.Duration.String(), "trigger": r.Trigger, "reason": r.Reason,
		"ticket": r.Ticket, "contract": r.ContractID, "contract_version": r.ContractVersion,
		"contract_hash": r.ContractHash, "expires_at": r.ExpiresAt,
	}
}

// findContract returns the contract that covers the ask and that the
// requester may use, or a refusal that names the part that failed.
func (e *Engine) findContract(ask Ask, now time.Time) (*configs.Contract, error) {
	groups, known := e.dir.Groups(ask.Requester)
	if !known {
		return nil, refuse(ErrNotEligible, "unknown person %q", ask.Requester)
	}
	var covering, eligible []*configs.Contract
	for i := range e.cfg.Contracts {
		c := &e.cfg.Contracts[i]
		if ask.ContractID != "" && c.ID != ask.ContractID {
			continue
		}
		if !covers(c, ask) {
			continue
		}
		covering = append(covering, c)
		if mayAsk(c, ask, groups) {
			eligible = append(eligible, c)
		}
	}
	what := describeAsk(ask)
	switch {
	case ask.ContractID != "" && e.contract(ask.ContractID) == nil:
		return nil, refuse(ErrNotFound, "contract %q does not exist", ask.ContractID)
	case len(covering) == 0:
		return nil, refuse(ErrOutOfScope, "no contract lets anyone use %s; ask an operator to add it to a contract's scope", what)
	case len(eligible) == 0:
		return nil, refuse(ErrNotEligible, "%s may not request %s under contract %s", ask.Requester, what, contractIDs(covering))
	}
	for _, c := range eligible {
		if !now.Before(c.NotBefore()) && now.Before(c.NotAfter()) {
			return c, nil
		}
	}
	c := eligible[0]
	return nil, refuse(ErrContractEnded, "contract %s is in effect from %s to %s, not now",
		c.ID, c.Effective.Format(time.DateOnly), c.Expires.Format(time.DateOnly))
}

// mayAsk reports whether the requester may ask under c: as one of its
// requesters, or, for break-glass, as one of its break-glass requesters.
func mayAsk(c *configs.Contract, ask Ask, groups []string) bool {
	if c.Requesters.Contains(ask.Requester, groups) {
		return true
	}
	return ask.BreakGlass && c.BreakGlass != nil && c.BreakGlass.Requesters.Contains(ask.Requester, groups)
}

func covers(c *configs.Contract, ask Ask) bool {
	switch ask.Kind {
	case KindSSH:
		return c.CoversSSH(ask.Target, ask.Principal)
	case KindPostgres:
		return c.CoversPG(ask.Target, ask.Principal)
	}
	return false
}

func describeAsk(ask Ask) string {
	if ask.Kind == KindSSH {
		return fmt.Sprintf("login %s on %s", ask.Principal, ask.Target)
	}
	return fmt.Sprintf("role %s on %s", ask.Principal, ask.Target)
}

func contractIDs(cs []*configs.Contract) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return strings.Join(ids, ", ")
}

// checkRules applies the contract's request rules: trigger, reason, ticket.
func checkRules(c *configs.Contract, ask Ask) error {
	if len(c.Triggers) > 0 && !slices.Contains(c.Triggers, ask.Trigger) {
		if ask.Trigger == "" {
			return refuse(ErrInvalid, "contract %s requires a trigger, one of: %s", c.ID, strings.Join(c.Triggers, ", "))
		}
		return refuse(ErrInvalid, "trigger %q is not allowed by contract %s; use one of: %s",
			ask.Trigger, c.ID, strings.Join(c.Triggers, ", "))
	}
	rules := c.Request
	reason := strings.TrimSpace(ask.Reason)
	if rules.ReasonRequired && reason == "" {
		return refuse(ErrInvalid, "contract %s requires a reason; give one with --reason", c.ID)
	}
	if rules.ReasonMinLength > 0 && len([]rune(reason)) < rules.ReasonMinLength {
		return refuse(ErrInvalid, "reason %q is shorter than the %d characters contract %s requires",
			reason, rules.ReasonMinLength, c.ID)
	}
	if rules.TicketRequired && ask.Ticket == "" {
		return refuse(ErrInvalid, "contract %s requires a ticket matching %s; give one with --ticket", c.ID, rules.TicketPattern)
	}
	if rules.TicketPattern != "" && ask.Ticket != "" {
		re, err := regexp.Compile("^(?:" + rules.TicketPattern + ")$")
		if err != nil {
			return refuse(ErrInvalid, "contract %s has an invalid ticket pattern %q: %v", c.ID, rules.TicketPattern, err)
		}
		if !re.MatchString(ask.Ticket) {
			return refuse(ErrInvalid, "ticket %q does not match the pattern %s that contract %s requires",
				ask.Ticket, rules.TicketPattern, c.ID)
		}
	}
	return nil
}

func describeHours(h *configs.Hours) string {
	return fmt.Sprintf("on %s from %s to %s %s", strings.Join(h.Days, ", "), h.From, h.To, h.TimeZone)
}
