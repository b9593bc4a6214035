package ui

import (
	"fmt"
	"strings"

	"github.com/jitgate/jitgate/configs"
)

// termLine is one term of a contract, in plain words.
type termLine struct {
	Label string
	Text  string
}

// termsView is a contract as the request page shows it.
type termsView struct {
	ID      string
	Version int
	Party   string
	Kind    string
	Hash    string
	Lines   []termLine
}

// describeContract puts the terms that matter to an approver into plain
// words, from the contract as loaded (with defaults applied).
func describeContract(c *configs.Contract) termsView {
	v := termsView{ID: c.ID, Version: c.Version, Party: c.Party, Kind: c.Kind, Hash: c.Hash()}
	add := func(label, text string) {
		if text != "" {
			v.Lines = append(v.Lines, termLine{Label: label, Text: text})
		}
	}
	add("In effect", fmt.Sprintf("from %s to the end of %s", c.Effective, c.Expires))
	add("Who may ask", describePrincipals(c.Requesters))
	add("Scope", describeScope(c.Scope))
	if len(c.Triggers) > 0 {
		add("Triggers", joinWords(c.Triggers))
	}
	add("A request needs", describeRequestRules(c.Request))
	add("Approval", describeApproval(c))
	add("Self-approval", c.Approval.SelfApproval)
	add("Unanswered requests lapse after", formatDuration(c.Approval.PendingTTL.Std()))
	add("Window", describeWindow(c.Window))
	add("Extensions", describeExtensions(c.Window.Extensions))
	add("Sessions", describeSessions(c.Window))
	add("Break-glass", describeBreakGlass(c.BreakGlass))
	add("Recording", describeRecording(c.Recording))
	add("Retention", describeRetention(c.Retention))
	if len(c.Compliance) > 0 {
		add("Compliance controls", strings.Join(c.Compliance, ", "))
	}
	return v
}

// describePrincipals returns "users alice and bob; group approvers".
func describePrincipals(p configs.Principals) string {
	var parts []string
	if n := len(p.Users); n > 0 {
		parts = append(parts, pluralWord(n, "user", "users")+" "+joinWords(p.Users))
	}
	if n := len(p.Groups); n > 0 {
		parts = append(parts, pluralWord(n, "group", "groups")+" "+joinWords(p.Groups))
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, "; ")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describeScope returns "web-1 as login deploy; orders as role readonly".
func describeScope(scope []configs.ScopeEntry) string {
	var parts []string
	for _, e := range scope {
		if len(e.Logins) > 0 {
			parts = append(parts, fmt.Sprintf("%s as %s %s", e.Target, pluralWord(len(e.Logins), "login", "logins"), joinOr(e.Logins)))
		}
		if len(e.Roles) > 0 {
			parts = append(parts, fmt.Sprintf("%s as %s %s", e.Target, pluralWord(len(e.Roles), "role", "roles"), joinOr(e.Roles)))
		}
	}
	return strings.Join(parts, "; ")
}

// joinOr joins items as "a", "a or b" or "a, b or c".
func joinOr(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func describeRequestRules(r configs.RequestRules) string {
	var needs []string
	switch {
	case r.ReasonMinLength > 0:
		needs = append(needs, fmt.Sprintf("a reason of at least %d characters", r.ReasonMinLength))
	case r.ReasonRequired:
		needs = append(needs, "a reason")
	}
	switch {
	case r.TicketPattern != "":
		needs = append(needs, "a ticket matching "+r.TicketPattern)
	case r.TicketRequired:
		needs = append(needs, "a ticket")
	}
	if len(needs) == 0 {
		return "no reason or ticket"
	}
	return joinWords(needs)
}

// describeApproval returns "1 approval from group approvers", or the
// stages in order when there are several.
func describeApproval(c *configs.Contract) string {
	stages := c.Stages()
	if len(stages) == 1 {
		return describeStage(stages[0])
	}
	parts := make([]string, len(stages))
	for i, s := range stages {
		parts[i] = fmt.Sprintf("stage %d (%s): %s", i+1, s.Name, describeStage(s))
	}
	return strings.Join(parts, "; then ")
}

func describeStage(s configs.Stage) string {
	if s.Quorum > 1 {
		return fmt.Sprintf("%d approvals from different people among %s", s.Quorum, describePrincipals(s.Approvers))
	}
	return "1 approval from " + describePrincipals(s.Approvers)
}

func describeWindow(w configs.Window) string {
	text := fmt.Sprintf("%s by default, at most %s", formatDuration(w.Default.Std()), formatDuration(w.Max.Std()))
	if h := w.Hours; h != nil {
		text += fmt.Sprintf("; only on %s from %s to %s (%s)", joinWords(h.Days), h.From, h.To, h.TimeZone)
	}
	return text
}

func describeExtensions(x *configs.Extensions) string {
	if x == nil || x.MaxCount == 0 {
		return "none"
	}
	text := "up to " + plural(x.MaxCount, "extension", "extensions")
	if x.MaxEach > 0 {
		text += " of at most " + formatDuration(x.MaxEach.Std()) + " each"
	}
	if x.MaxTotal > 0 {
		text += ", " + formatDuration(x.MaxTotal.Std()) + " in total"
	}
	return text
}

func describeSessions(w configs.Window) string {
	text := "no limit on concurrent sessions"
	if w.MaxSessions > 0 {
		text = fmt.Sprintf("at most %d at once", w.MaxSessions)
	}
	if w.IdleTimeout > 0 {
		text += "; idle sessions close after " + formatDuration(w.IdleTimeout.Std())
	}
	return text
}

func describeBreakGlass(b *configs.BreakGlass) string {
	if b == nil {
		return "not allowed"
	}
	return fmt.Sprintf("%s may grant themselves up to %s at once; reviewed within %s by %s",
		describePrincipals(b.Requesters), formatDuration(b.MaxWindow.Std()),
		formatDuration(b.ReviewWithin.Std()), describePrincipals(b.Reviewers))
}

func describeRecording(r configs.Recording) string {
	ssh := "SSH " + r.SSH
	switch r.SSH {
	case "off":
		ssh = "SSH not recorded"
	case "output+input":
		ssh = "SSH output and input"
	}
	pg := "PostgreSQL " + r.Postgres
	switch {
	case r.Postgres == "off":
		pg = "PostgreSQL not recorded"
	case r.Postgres == "queries" && r.Parameters == "off":
		pg = "PostgreSQL queries without parameters"
	case r.Postgres == "queries" && r.Parameters == "on":
		pg = "PostgreSQL queries with parameters"
	case r.Postgres == "queries":
		pg = "PostgreSQL queries with parameters " + r.Parameters
	}
	text := ssh + "; " + pg
	if len(r.Redact) > 0 {
		text += "; " + plural(len(r.Redact), "redaction pattern", "redaction patterns")
	}
	return text
}

func describeRetention(r configs.Retention) string {
	text := fmt.Sprintf("events %s, recordings %s", formatDuration(r.Events.Std()), formatDuration(r.Recordings.Std()))
	if r.LegalHold {
		text += "; under legal hold, nothing is purged"
	}
	return text
}
