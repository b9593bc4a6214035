package ui

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
)

// maxTextLength bounds comments and reasons typed into a form, in
// characters.
const maxTextLength = 1000

// approve handles POST /requests/{id}/approve.
func (u *ui) approve(v *visit) error { return u.decide(v, true) }

// deny handles POST /requests/{id}/deny.
func (u *ui) deny(v *visit) error { return u.decide(v, false) }

// decide sends the signed-in person's vote to the engine, which checks
// every rule. A rejection comes back as the request page with the reason.
func (u *ui) decide(v *visit, approve bool) error {
	id, ok := v.pathID()
	if !ok {
		return v.notFound(u, "request")
	}
	comment, err := formText(v.r, "comment")
	if err != nil {
		return u.showRequest(v, id, http.StatusBadRequest, sentence(err))
	}
	var maxDuration time.Duration
	if approve {
		maxDuration, err = formDuration(v.r, "max_duration")
		if err != nil {
			return u.showRequest(v, id, http.StatusBadRequest, sentence(err))
		}
	}

	out, err := u.opts.Engine.Decide(v.r.Context(), approval.Vote{
		RequestID: id, Approver: v.person.Name, Approve: approve,
		Comment: comment, MaxDuration: maxDuration,
	})
	if isPolicy(err) {
		v.log.Info("vote rejected", "request", id, "approve", approve, "reason", err)
		return u.showRequest(v, id, policyStatus(err), sentence(err))
	}
	if err != nil {
		return fmt.Errorf("recording the vote of %s on request %d: %w", v.person.Name, id, err)
	}
	v.log.Info("vote recorded", "request", id, "approve", approve, "state", out.Request.State)
	return v.redirect(fmt.Sprintf("/requests/%d", id))
}

// cancel handles POST /requests/{id}/cancel, by which the requester
// withdraws a pending request.
func (u *ui) cancel(v *visit) error {
	id, ok := v.pathID()
	if !ok {
		return v.notFound(u, "request")
	}
	reason, err := formText(v.r, "reason")
	if err != nil {
		return u.showRequest(v, id, http.StatusBadRequest, sentence(err))
	}
	_, err = u.opts.Engine.Cancel(v.r.Context(), id, v.person.Name, reason)
	if isPolicy(err) {
		v.log.Info("cancel rejected", "request", id, "reason", err)
		return u.showRequest(v, id, policyStatus(err), sentence(err))
	}
	if err != nil {
		return fmt.Errorf("cancelling request %d for %s: %w", id, v.person.Name, err)
	}
	v.log.Info("request cancelled", "request", id)
	return v.redirect(fmt.Sprintf("/requests/%d", id))
}

// sentence turns an error message into a banner sentence: capitalized,
// with a full stop. Engine rejections name the request and the rule.
func sentence(err error) string {
	msg := strings.TrimSpace(err.Error())
	if msg == "" {
		return "The request could not be changed."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// formText returns a trimmed form field of at most maxTextLength
// characters.
func formText(r *http.Request, field string) (string, error) {
	text := strings.TrimSpace(r.PostFormValue(field))
	if n := utf8.RuneCountInString(text); n > maxTextLength {
		return "", fmt.Errorf("the %s has %d characters; shorten it to %d or fewer", field, n, maxTextLength)
	}
	return text, nil
}

// formDuration parses an optional duration field such as "30m". An empty
// field is 0.
func formDuration(r *http.Request, field string) (time.Duration, error) {
	raw := strings.TrimSpace(r.PostFormValue(field))
	if raw == "" {
		return 0, nil
	}
	d, err := configs.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("the shorter window %q is not a duration such as 30m or 2h", raw)
	}
	return d.Std(), nil
}
