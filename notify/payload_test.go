package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenEvents are the events the golden files show, with a fixed time
// and delivery id.
func goldenEvents() map[string]event {
	at := time.Date(2026, 12, 2, 9, 5, 0, 0, time.UTC)
	url := "https://jitgate.example.com/requests/42"
	approved := sampleRequest()
	approved.State, approved.DecidedAt = store.RequestApproved, at
	revoked := sampleGrant()
	revoked.State, revoked.ClosedAt, revoked.Closer, revoked.CloseReason = store.GrantRevoked, at.Add(20*time.Minute), "bob", "incident closed"
	pg := &store.Request{
		ID: 43, State: store.RequestPending, Requester: "carol", Kind: "postgres", Target: "orders",
		Principal: "readonly", Duration: 90 * time.Minute, Trigger: "change", Reason: "backfill",
		ContractID: "dba", ContractVersion: 1, CreatedAt: at, ExpiresAt: at.Add(time.Hour),
	}
	return map[string]event{
		"request_created":    {Name: "request.created", Actor: "alice", Request: sampleRequest(), URL: url},
		"request_created_pg": {Name: "request.created", Actor: "carol", Request: pg, URL: "https://jitgate.example.com/requests/43"},
		"request_approved":   {Name: "request.approved", Request: approved, Grant: sampleGrant(), URL: url},
		"request_denied":     {Name: "request.denied", Actor: "bob", Comment: "not during the freeze", Request: sampleRequest(), URL: url},
		"grant_revoked":      {Name: "grant.revoked", Actor: "bob", Comment: "incident closed", Request: approved, Grant: revoked, URL: url},
		"session_started":    {Name: "session.started", Actor: "alice", Request: approved, Grant: sampleGrant(), URL: url},
	}
}

func TestSlackGolden(t *testing.T) {
	for name, ev := range goldenEvents() {
		t.Run(name, func(t *testing.T) {
			ev.Time, ev.Delivery = time.Date(2026, 12, 2, 9, 5, 0, 0, time.UTC), "GOLDEN-DELIVERY"
			body, err := renderSlack(ev)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "slack_"+name+".json"), body)
		})
	}
}

func TestJSONGolden(t *testing.T) {
	for _, name := range []string{"request_created", "grant_revoked"} {
		t.Run(name, func(t *testing.T) {
			ev := goldenEvents()[name]
			ev.Time, ev.Delivery = time.Date(2026, 12, 2, 9, 5, 0, 0, time.UTC), "GOLDEN-DELIVERY"
			body, err := renderJSON(ev)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "json_"+name+".json"), body)
		})
	}
}

// checkGolden compares body, indented for review, with the golden file,
// or rewrites the file under -update.
func checkGolden(t *testing.T, path string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	pretty.WriteByte('\n')
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -run %s -update to create it", err, t.Name())
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the rendered body; rerun with -update if the change is intended.\ngot:\n%s", path, pretty.Bytes())
	}
}

func TestSlackEscapesUserText(t *testing.T) {
	ev := goldenEvents()["request_created"]
	ev.Request.Reason = "<!channel> please & thanks <https://evil.example|click>"
	body, err := renderSlack(ev)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	section := msg.Blocks[0].Text.Text
	for _, raw := range []string{"<!channel>", "<https://evil.example"} {
		if strings.Contains(section, raw) {
			t.Errorf("section keeps the control sequence %q:\n%s", raw, section)
		}
	}
	want := "*Reason:* &lt;!channel&gt; please &amp; thanks &lt;https://evil.example|click&gt;"
	if !strings.Contains(section, want) {
		t.Errorf("section lacks %q:\n%s", want, section)
	}
}

func TestSlackCutsLongReason(t *testing.T) {
	ev := goldenEvents()["request_created"]
	ev.Request.Reason = strings.Repeat("é", 5000)
	body, err := renderSlack(ev)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Blocks []struct {
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	section := []rune(msg.Blocks[0].Text.Text)
	if len(section) > slackSectionMax {
		t.Errorf("section has %d characters, more than Slack's %d", len(section), slackSectionMax)
	}
	if !strings.Contains(string(section), strings.Repeat("é", slackReasonMax-1)+"…") {
		t.Errorf("reason was not cut to %d characters with an ellipsis", slackReasonMax)
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		time.Hour:                   "1h",
		90 * time.Minute:            "1h30m",
		45 * time.Minute:            "45m",
		90 * time.Second:            "1m30s",
		26 * time.Hour:              "26h",
		2*time.Hour + 5*time.Second: "2h0m5s",
	}
	for d, want := range cases {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
