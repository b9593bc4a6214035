package notify

import (
	"time"

	"github.com/jitgate/jitgate/store"
)

// jsonPayload is the generic webhook body. Field names are part of the
// receiver-facing API: add fields, never rename or remove them.
type jsonPayload struct {
	Event   string       `json:"event"`
	ID      string       `json:"id"` // the delivery id, also in X-Jitgate-Delivery
	Time    time.Time    `json:"time"`
	Summary string       `json:"summary"`
	Actor   string       `json:"actor,omitempty"`
	Comment string       `json:"comment,omitempty"`
	URL     string       `json:"url,omitempty"`
	Request *jsonRequest `json:"request,omitempty"`
	Grant   *jsonGrant   `json:"grant,omitempty"`
}

type jsonRequest struct {
	ID              int64     `json:"id"`
	State           string    `json:"state"`
	Requester       string    `json:"requester"`
	Kind            string    `json:"kind"`
	Target          string    `json:"target"`
	Principal       string    `json:"principal"`
	DurationSeconds int64     `json:"duration_seconds"`
	Trigger         string    `json:"trigger,omitempty"`
	Reason          string    `json:"reason,omitempty"`
	Ticket          string    `json:"ticket,omitempty"`
	ContractID      string    `json:"contract_id"`
	ContractVersion int       `json:"contract_version"`
	ContractHash    string    `json:"contract_hash,omitempty"`
	BreakGlass      bool      `json:"break_glass"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
	DecidedAt       time.Time `json:"decided_at,omitzero"`
	Closer          string    `json:"closer,omitempty"`
	CloseReason     string    `json:"close_reason,omitempty"`
}

type jsonGrant struct {
	ID              int64     `json:"id"`
	RequestID       int64     `json:"request_id"`
	State           string    `json:"state"`
	Requester       string    `json:"requester"`
	Kind            string    `json:"kind"`
	Target          string    `json:"target"`
	Principal       string    `json:"principal"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Extensions      int       `json:"extensions"`
	MaxSessions     int       `json:"max_sessions"`
	ContractID      string    `json:"contract_id"`
	ContractVersion int       `json:"contract_version"`
	ContractHash    string    `json:"contract_hash,omitempty"`
	BreakGlass      bool      `json:"break_glass"`
	ReviewDue       time.Time `json:"review_due,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	Closer          string    `json:"closer,omitempty"`
	CloseReason     string    `json:"close_reason,omitempty"`
}

// renderJSON returns the generic body for ev.
func renderJSON(ev event) ([]byte, error) {
	return marshalJSON(jsonPayload{
		Event:   ev.Name,
		ID:      ev.Delivery,
		Time:    ev.Time,
		Summary: summarize(ev).plain(),
		Actor:   ev.Actor,
		Comment: ev.Comment,
		URL:     ev.URL,
		Request: jsonRequestOf(ev.Request),
		Grant:   jsonGrantOf(ev.Grant),
	})
}

func jsonRequestOf(r *store.Request) *jsonRequest {
	if r == nil {
		return nil
	}
	return &jsonRequest{
		ID:              r.ID,
		State:           string(r.State),
		Requester:       r.Requester,
		Kind:            r.Kind,
		Target:          r.Target,
		Principal:       r.Principal,
		DurationSeconds: int64(r.Duration / time.Second),
		Trigger:         r.Trigger,
		Reason:          r.Reason,
		Ticket:          r.Ticket,
		ContractID:      r.ContractID,
		ContractVersion: r.ContractVersion,
		ContractHash:    r.ContractHash,
		BreakGlass:      r.BreakGlass,
		CreatedAt:       r.CreatedAt.UTC(),
		ExpiresAt:       r.ExpiresAt.UTC(),
		DecidedAt:       r.DecidedAt.UTC(),
		Closer:          r.Closer,
		CloseReason:     r.CloseReason,
	}
}

func jsonGrantOf(g *store.Grant) *jsonGrant {
	if g == nil {
		return nil
	}
	return &jsonGrant{
		ID:              g.ID,
		RequestID:       g.RequestID,
		State:           string(g.State),
		Requester:       g.Requester,
		Kind:            g.Kind,
		Target:          g.Target,
		Principal:       g.Principal,
		Start:           g.Start.UTC(),
		End:             g.End.UTC(),
		Extensions:      g.Extensions,
		MaxSessions:     g.MaxSessions,
		ContractID:      g.ContractID,
		ContractVersion: g.ContractVersion,
		ContractHash:    g.ContractHash,
		BreakGlass:      g.BreakGlass,
		ReviewDue:       g.ReviewDue.UTC(),
		ClosedAt:        g.ClosedAt.UTC(),
		Closer:          g.Closer,
		CloseReason:     g.CloseReason,
	}
}
