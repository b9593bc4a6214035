package notify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits from Slack's Block Kit reference: a section's text holds at most
// 3000 characters and a button's text at most 75. The reason is cut
// shorter so the summary lines around it stay readable.
const (
	slackSectionMax = 3000
	slackButtonMax  = 75
	slackReasonMax  = 1000
)

// slackMessage is an incoming-webhook message: Text is the fallback that
// notifications and clients without blocks show.
type slackMessage struct {
	Text   string `json:"text"`
	Blocks []any  `json:"blocks"`
}

type slackText struct {
	Type string `json:"type"` // mrkdwn or plain_text
	Text string `json:"text"`
}

type slackSection struct {
	Type string    `json:"type"` // section
	Text slackText `json:"text"`
}

type slackContext struct {
	Type     string      `json:"type"` // context
	Elements []slackText `json:"elements"`
}

type slackActions struct {
	Type     string        `json:"type"` // actions
	Elements []slackButton `json:"elements"`
}

// slackButton is a link button: Slack opens URL in the browser. It carries
// no decision, because deciding needs a signed-in approver.
type slackButton struct {
	Type     string    `json:"type"` // button
	Text     slackText `json:"text"`
	URL      string    `json:"url"`
	ActionID string    `json:"action_id"`
}

// renderSlack returns the Slack incoming-webhook body for ev.
func renderSlack(ev event) ([]byte, error) {
	head := summarize(ev)
	msg := slackMessage{
		Text: slackEscape(head.plain()),
		Blocks: []any{slackSection{
			Type: "section",
			Text: slackText{Type: "mrkdwn", Text: cut(slackSectionText(ev, head), slackSectionMax)},
		}},
	}
	if line := slackContextLine(ev); line != "" {
		msg.Blocks = append(msg.Blocks, slackContext{
			Type:     "context",
			Elements: []slackText{{Type: "mrkdwn", Text: line}},
		})
	}
	if ev.URL != "" {
		label := "Open request " + strconv.FormatInt(ev.requestID(), 10)
		msg.Blocks = append(msg.Blocks, slackActions{
			Type: "actions",
			Elements: []slackButton{{
				Type:     "button",
				Text:     slackText{Type: "plain_text", Text: cut(label, slackButtonMax)},
				URL:      ev.URL,
				ActionID: "open-request",
			}},
		})
	}
	return marshalJSON(msg)
}

// slackSectionText is the summary line, then one line for each detail the
// approver weighs: trigger, reason, ticket, the comment of a decision or
// revocation, and the granted window.
func slackSectionText(ev event, head summary) string {
	lines := []string{head.mrkdwn()}
	add := func(label, value string, max int) {
		if value != "" {
			lines = append(lines, "*"+label+":* "+slackEscape(cut(value, max)))
		}
	}
	if r := ev.Request; r != nil {
		add("Trigger", r.Trigger, slackReasonMax)
		add("Reason", r.Reason, slackReasonMax)
		add("Ticket", r.Ticket, slackReasonMax)
	}
	add("Comment", ev.Comment, slackReasonMax)
	if g := ev.Grant; g != nil && !g.Start.IsZero() {
		add("Window", formatTime(g.Start)+" to "+formatTime(g.End), slackReasonMax)
	}
	return strings.Join(lines, "\n")
}

// slackContextLine names the contract and the ids, such as "Contract
// *ops* v1 · request 42 · grant 7".
func slackContextLine(ev event) string {
	var parts []string
	contract, version := "", 0
	switch {
	case ev.Request != nil:
		contract, version = ev.Request.ContractID, ev.Request.ContractVersion
	case ev.Grant != nil:
		contract, version = ev.Grant.ContractID, ev.Grant.ContractVersion
	}
	if contract != "" {
		parts = append(parts, "Contract *"+slackEscape(contract)+"* v"+strconv.Itoa(version))
	}
	if id := ev.requestID(); id != 0 {
		parts = append(parts, "request "+strconv.FormatInt(id, 10))
	}
	if id := ev.grantID(); id != 0 {
		parts = append(parts, "grant "+strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, " · ")
}

// slackEscape replaces the three characters that Slack's formatting
// reference reserves for links and mentions, so a reason such as
// "<!channel>" stays text.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most max characters, ending with "…" when it cut.
func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + "…"
}
