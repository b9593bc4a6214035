package notify

import (
	"strconv"
	"strings"
	"time"
)

// segment is a piece of a summary line: fixed wording, or a value that
// came from a person or the config (a name, target, reason), which Slack
// text escapes and shows in bold.
type segment struct {
	text  string
	value bool
}

// summary is the one-line description of an event.
type summary []segment

func (s *summary) say(text string) *summary {
	*s = append(*s, segment{text: text})
	return s
}

func (s *summary) name(value string) *summary {
	*s = append(*s, segment{text: value, value: true})
	return s
}

// plain returns the line as plain text, for the JSON body.
func (s summary) plain() string {
	var b strings.Builder
	for _, seg := range s {
		b.WriteString(seg.text)
	}
	return b.String()
}

// mrkdwn returns the line in Slack's mrkdwn with values escaped and bold.
func (s summary) mrkdwn() string {
	var b strings.Builder
	for _, seg := range s {
		if seg.value && seg.text != "" {
			b.WriteString("*" + slackEscape(seg.text) + "*")
		} else {
			b.WriteString(slackEscape(seg.text))
		}
	}
	return b.String()
}

// summarize describes ev in one line, such as "alice requests SSH access
// as deploy on web-1 for 1h".
func summarize(ev event) summary {
	s := &summary{}
	about, ok := ev.subject()
	if !ok {
		return *s.say(ev.Name)
	}
	req := "request " + strconv.FormatInt(ev.requestID(), 10)
	grant := "grant " + strconv.FormatInt(ev.grantID(), 10)

	switch ev.Name {
	case "request.created":
		s.name(about.requester).say(" requests ")
		about.access(s)
		if ev.Request != nil && ev.Request.Duration > 0 {
			s.say(" for " + formatDuration(ev.Request.Duration))
		}
		if about.breakGlass {
			s.say(" (break-glass)")
		}
	case "request.approved":
		s.say(upper(req) + " approved: ").name(about.requester).say(" has ")
		about.access(s)
		if ev.Grant != nil {
			s.say(" until " + formatTime(ev.Grant.End))
		}
	case "request.denied":
		s.name(ev.Actor).say(" denied " + req + " from ").name(about.requester).say(" for ")
		about.access(s)
	case "request.expired":
		s.say(upper(req) + " from ").name(about.requester).say(" expired without a decision: ")
		about.access(s)
	case "grant.revoked":
		s.name(ev.Actor).say(" revoked " + grant + " of ").name(about.requester).say(": ")
		about.access(s)
	case "grant.ended":
		s.say(upper(grant) + " of ").name(about.requester).say(" ended: ")
		about.access(s)
	case "session.started":
		s.name(about.requester).say(" started a session under " + grant + ": ")
		about.access(s)
	case "session.terminated":
		s.say("A session of ").name(about.requester).say(" under " + grant + " was terminated: ")
		about.access(s)
	default:
		s.say(ev.Name + " for " + req + " of ").name(about.requester).say(": ")
		about.access(s)
	}
	return *s
}

// subject is who and what an event is about, from its request or grant.
type subject struct {
	requester, kind, target, principal string
	breakGlass                         bool
}

func (ev event) subject() (subject, bool) {
	switch {
	case ev.Request != nil:
		r := ev.Request
		return subject{r.Requester, r.Kind, r.Target, r.Principal, r.BreakGlass}, true
	case ev.Grant != nil:
		g := ev.Grant
		return subject{g.Requester, g.Kind, g.Target, g.Principal, g.BreakGlass}, true
	}
	return subject{}, false
}

// access appends "SSH access as deploy on web-1" or "PostgreSQL access as
// role readonly on orders".
func (w subject) access(s *summary) {
	switch w.kind {
	case "ssh":
		s.say("SSH access as ")
	case "postgres":
		s.say("PostgreSQL access as role ")
	default:
		s.say(w.kind + " access as ")
	}
	s.name(w.principal).say(" on ").name(w.target)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// formatDuration writes whole hours and minutes without the zero units
// that time.Duration.String adds ("1h", "1h30m", "45m", "90s").
func formatDuration(d time.Duration) string {
	if d%time.Minute != 0 {
		return d.String()
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formatTime writes an instant in UTC to the minute, as approvers in
// several time zones read it.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
