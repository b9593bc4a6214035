package configs

import (
	"errors"
	"math"
)

// validateWindow checks the window terms. Defaults have already set an
// omitted default window to min(1h, max).
func (v *validator) validateWindow(w *Window, path string) {
	if w.Max <= 0 {
		v.fail(path+".max", "missing or 0; set the longest window a grant may have, such as max: 4h")
	} else if w.Default > w.Max {
		v.fail(path+".default", "%s is longer than max %s; lower default or raise max", w.Default, w.Max)
	}
	if w.MaxSessions < 0 {
		v.fail(path+".max_sessions", "%d is negative; use 0 for no limit or a positive number", w.MaxSessions)
	}
	if w.Hours != nil {
		v.validateHours(w.Hours, path+".hours")
	}
	if w.Extensions != nil {
		v.validateExtensions(w.Extensions, path+".extensions")
	}
}

func (v *validator) validateHours(h *Hours, path string) {
	_, err := h.parse()
	var problems hoursErrors
	if errors.As(err, &problems) {
		for _, p := range problems {
			v.fail(path+"."+p.key, "%s", p.msg)
		}
	}
}

// validateExtensions checks the extension caps. Omitted caps were filled
// from window.max, so a zero here was either written or came from a
// missing window.max.
func (v *validator) validateExtensions(e *Extensions, path string) {
	switch {
	case v.pos.explicitZero(path + ".max_count"):
		v.fail(path+".max_count", "0 allows no extensions; remove the extensions block to turn extensions off, or allow at least 1")
	case e.MaxCount < 0:
		v.fail(path+".max_count", "%d is negative; use the number of extensions a grant may get, such as 2", e.MaxCount)
	}
	switch {
	case v.pos.explicitZero(path + ".max_each"):
		v.fail(path+".max_each", "0s allows no extension time; set the longest single extension, such as 1h, or omit it to use window.max")
	case e.MaxEach <= 0:
		v.fail(path+".max_each", "missing, and window.max is missing too; set the longest single extension, such as max_each: 1h")
	}
	if e.MaxCount > 0 && e.MaxEach > 0 && int64(e.MaxCount) > math.MaxInt64/int64(e.MaxEach) {
		v.fail(path+".max_count", "%d extensions of %s each add up to more than a duration can hold; lower max_count", e.MaxCount, e.MaxEach)
	}
	switch {
	case v.pos.explicitZero(path + ".max_total"):
		v.fail(path+".max_total", "0s allows no extension time; set a total such as 2h, or omit it for max_count times max_each")
	case e.MaxTotal > 0 && e.MaxTotal < e.MaxEach:
		v.fail(path+".max_total", "%s is shorter than max_each %s, so no extension could use its full length; raise max_total or lower max_each", e.MaxTotal, e.MaxEach)
	}
}

// validateBreakGlass checks the emergency terms. Its max_window may exceed
// window.max, because an emergency may need longer than routine access.
func (v *validator) validateBreakGlass(c *Contract, path string) {
	bg := c.BreakGlass
	if bg == nil {
		return
	}
	if bg.Requesters.IsEmpty() {
		v.fail(path+".requesters", "missing; name who may grant themselves access in an emergency, such as groups: [on-call]")
	}
	if bg.MaxWindow <= 0 {
		v.fail(path+".max_window", "missing or 0; set the longest emergency window, such as max_window: 1h")
	}
	if bg.ReviewWithin <= 0 {
		v.fail(path+".review_within", "missing or 0; set how soon after an emergency grant a review is due, such as review_within: 24h")
	}
	if reviewers := bg.Reviewers.Resolve(v.cfg.Identities.Users); len(reviewers) == 0 {
		v.fail(path+".reviewers", "no user in identities.users is a reviewer (users: %s; groups: %s); name existing users or groups that have members",
			listText(bg.Reviewers.Users), listText(bg.Reviewers.Groups))
	}
}
