package ui

import (
	"testing"
	"time"

	"github.com/jitgate/jitgate/configs"
)

func TestDescribeContractTerms(t *testing.T) {
	c := &configs.Contract{
		ID: "vendor-x", Version: 3, Party: "Vendor X", Kind: "vendor",
		Requesters: configs.Principals{Users: []string{"vic"}, Groups: []string{"vendors", "contractors"}},
		Scope: []configs.ScopeEntry{
			{Target: "web-1", Logins: []string{"deploy", "app", "root"}},
			{Target: "orders", Roles: []string{"readonly"}},
		},
		Request: configs.RequestRules{ReasonMinLength: 20, TicketPattern: "^INC-[0-9]+$"},
		Approval: configs.Approval{
			Stages: []configs.Stage{
				{Name: "manager", Approvers: configs.Principals{Users: []string{"mia"}}, Quorum: 1},
				{Name: "owner", Approvers: configs.Principals{Groups: []string{"sre"}}, Quorum: 2},
			},
			SelfApproval: "forbidden",
			PendingTTL:   configs.Duration(45 * time.Minute),
		},
		Window: configs.Window{
			Default: configs.Duration(time.Hour), Max: configs.Duration(4 * time.Hour),
			Hours:       &configs.Hours{Days: []string{"mon", "tue"}, From: "09:00", To: "17:00", TimeZone: "Europe/Berlin"},
			MaxSessions: 2,
		},
		BreakGlass: &configs.BreakGlass{
			Requesters: configs.Principals{Users: []string{"vic"}}, MaxWindow: configs.Duration(time.Hour),
			ReviewWithin: configs.Duration(24 * time.Hour), Reviewers: configs.Principals{Groups: []string{"sre"}},
		},
		Recording: configs.Recording{SSH: "output+input", Postgres: "queries", Parameters: "off", Redact: []string{"secret"}},
		Retention: configs.Retention{Events: configs.Duration(400 * 24 * time.Hour), Recordings: configs.Duration(90 * 24 * time.Hour), LegalHold: true},
	}
	want := map[string]string{
		"Who may ask":                     "user vic; groups vendors and contractors",
		"Scope":                           "web-1 as logins deploy, app or root; orders as role readonly",
		"A request needs":                 "a reason of at least 20 characters and a ticket matching ^INC-[0-9]+$",
		"Approval":                        "stage 1 (manager): 1 approval from user mia; then stage 2 (owner): 2 approvals from different people among group sre",
		"Self-approval":                   "forbidden",
		"Unanswered requests lapse after": "45m",
		"Window":                          "1h by default, at most 4h; only on mon and tue from 09:00 to 17:00 (Europe/Berlin)",
		"Extensions":                      "none",
		"Sessions":                        "at most 2 at once",
		"Break-glass":                     "user vic may grant themselves up to 1h at once; reviewed within 1d by group sre",
		"Recording":                       "SSH output and input; PostgreSQL queries without parameters; 1 redaction pattern",
		"Retention":                       "events 400d, recordings 90d; under legal hold, nothing is purged",
	}
	got := map[string]string{}
	for _, line := range describeContract(c).Lines {
		got[line.Label] = line.Text
	}
	for label, text := range want {
		if got[label] != text {
			t.Errorf("%s = %q, want %q", label, got[label], text)
		}
	}
	if _, ok := got["Triggers"]; ok {
		t.Errorf("a contract without triggers shows a Triggers line")
	}
}

func TestRelativeTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		at   time.Time
		want string
	}{
		{now.Add(20 * time.Second), "just now"},
		{now.Add(-59 * time.Second), "just now"},
		{now.Add(29*time.Minute + 59*time.Second), "in 29 min"},
		{now.Add(-3 * time.Hour), "3 h ago"},
		{now.Add(72 * time.Hour), "in 3 days"},
		{time.Time{}, ""},
	}
	for _, tt := range tests {
		if got := relative(now, tt.at); got != tt.want {
			t.Errorf("relative(%s) = %q, want %q", tt.at.Sub(now), got, tt.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	tests := map[string]string{
		"/requests/7":            "/requests/7",
		"/requests?fragment=1":   "/requests?fragment=1",
		"":                       "/requests",
		"requests":               "/requests",
		"//evil.example/x":       "/requests",
		"/\\evil.example":        "/requests",
		"https://evil.example/":  "/requests",
		"/ok\r\nSet-Cookie: x=y": "/requests",
	}
	for in, want := range tests {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWindowChoices(t *testing.T) {
	tests := []struct {
		requested, max time.Duration
		want           []time.Duration
	}{
		{time.Hour, 2 * time.Hour, []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute}},
		{8 * time.Hour, time.Hour, []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute}},
		{5 * time.Minute, time.Hour, nil},
	}
	for _, tt := range tests {
		got := windowChoices(tt.requested, tt.max)
		if len(got) != len(tt.want) {
			t.Errorf("windowChoices(%s, %s) = %v, want %v", tt.requested, tt.max, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("windowChoices(%s, %s) = %v, want %v", tt.requested, tt.max, got, tt.want)
				break
			}
		}
	}
}
