package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

const (
	alice = servertest.Alice
	bob   = servertest.Bob
	carol = servertest.Carol
	dave  = servertest.Dave
)

func TestRequestApproveExtendRevoke(t *testing.T) {
	h := newHarness(t)

	var created web.RequestView
	resp := h.call("POST", "/api/v1/requests", alice, web.CreateRequestBody{
		Target: servertest.SSHTarget, Principal: "deploy", Duration: "45m", Reason: "deploy hotfix",
	}, http.StatusCreated, &created)
	if created.State != "pending" {
		t.Errorf("state = %q, want pending", created.State)
	}
	if created.Kind != "ssh" {
		t.Errorf("kind = %q, want ssh inferred from the target", created.Kind)
	}
	if created.Contract != servertest.Ops {
		t.Errorf("contract = %q, want %q", created.Contract, servertest.Ops)
	}
	if created.Duration.Std() != 45*time.Minute {
		t.Errorf("duration = %s, want 45m", created.Duration.Std())
	}
	if want := urlf("/requests/%d", created.ID); !strings.HasSuffix(created.URL, want) {
		t.Errorf("url = %q, want it to end with %s", created.URL, want)
	}
	var raw map[string]any
	if err := json.Unmarshal(resp.body, &raw); err != nil {
		t.Fatal(err)
	}
	if got := raw["created_at"]; got != "2026-03-02T10:00:00Z" {
		t.Errorf("created_at = %v, want RFC 3339 UTC 2026-03-02T10:00:00Z", got)
	}
	if got := raw["duration"]; got != "45m0s" {
		t.Errorf("duration = %v, want the Go duration string 45m0s", got)
	}
	if _, ok := raw["decided_at"]; ok {
		t.Error("decided_at is present on a pending request")
	}

	var approved web.RequestView
	h.clock.Advance(time.Minute)
	h.call("POST", urlf("/api/v1/requests/%d/approve", created.ID), bob, web.DecideBody{Comment: "go ahead"}, http.StatusOK, &approved)
	if approved.State != "approved" {
		t.Fatalf("state after approval = %q, want approved", approved.State)
	}
	g := approved.Grant
	if g == nil {
		t.Fatal("approved request has no grant")
	}
	if got := g.End.Sub(g.Start); got != 45*time.Minute {
		t.Errorf("window = %s, want the 45m asked for", got)
	}
	if len(approved.Decisions) != 1 || approved.Decisions[0].Approver != bob || approved.Decisions[0].Comment != "go ahead" {
		t.Errorf("decisions = %+v, want bob's approval with its comment", approved.Decisions)
	}

	var extended web.GrantView
	h.call("POST", urlf("/api/v1/grants/%d/extend", g.ID), bob, web.ExtendBody{By: "30m"}, http.StatusOK, &extended)
	if got := extended.End.Sub(g.End); got != 30*time.Minute {
		t.Errorf("extension moved the end by %s, want 30m", got)
	}
	if extended.Extensions != 1 {
		t.Errorf("extensions = %d, want 1", extended.Extensions)
	}
	resp = h.do(context.Background(), "POST", urlf("/api/v1/grants/%d/extend", g.ID), bob, web.ExtendBody{By: "10m"})
	if resp.status != http.StatusUnprocessableEntity || errorOf(t, resp).Code != "extension_cap" {
		t.Errorf("second extension: status %d body %s, want 422 extension_cap", resp.status, resp.body)
	}

	var revoked web.GrantView
	h.call("POST", urlf("/api/v1/grants/%d/revoke", g.ID), bob, web.ReasonBody{Reason: "done"}, http.StatusOK, &revoked)
	if revoked.State != "revoked" || revoked.Closer != bob || revoked.CloseReason != "done" {
		t.Errorf("revoked grant = state %q closer %q reason %q, want revoked by bob: done", revoked.State, revoked.Closer, revoked.CloseReason)
	}
	resp = h.do(context.Background(), "POST", urlf("/api/v1/grants/%d/revoke", g.ID), bob, nil)
	if resp.status != http.StatusConflict || errorOf(t, resp).Code != "not_active" {
		t.Errorf("second revoke: status %d body %s, want 409 not_active", resp.status, resp.body)
	}

	var list web.ListView[web.GrantView]
	h.call("GET", "/api/v1/grants?state=revoked", alice, nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != g.ID {
		t.Errorf("revoked grants = %+v, want grant %d", list.Items, g.ID)
	}
}

func TestSecondRequestJoinsPending(t *testing.T) {
	h := newHarness(t)
	body := web.CreateRequestBody{Target: servertest.PGTarget, Principal: "readonly"}
	first := h.submit(alice, body)

	var second web.RequestView
	h.call("POST", "/api/v1/requests", alice, body, http.StatusOK, &second)
	if !second.Joined {
		t.Error("joined = false, want true")
	}
	if second.ID != first.ID {
		t.Errorf("second request id = %d, want the pending %d", second.ID, first.ID)
	}
}

func TestQuorumOfTwoNeedsTwoApprovers(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.DualTarget, Principal: "auditor"})

	var afterBob, afterDave web.RequestView
	h.call("POST", urlf("/api/v1/requests/%d/approve", r.ID), bob, nil, http.StatusOK, &afterBob)
	if afterBob.State != "pending" || afterBob.Grant != nil {
		t.Errorf("after one approval: state %q grant %v, want pending without grant", afterBob.State, afterBob.Grant)
	}
	h.call("POST", urlf("/api/v1/requests/%d/approve", r.ID), dave, nil, http.StatusOK, &afterDave)
	if afterDave.State != "approved" || afterDave.Grant == nil {
		t.Errorf("after two approvals: state %q grant %v, want approved with a grant", afterDave.State, afterDave.Grant)
	}
}

func TestDenyAndCancel(t *testing.T) {
	h := newHarness(t)
	denied := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	var d web.RequestView
	h.call("POST", urlf("/api/v1/requests/%d/deny", denied.ID), bob, web.DecideBody{Comment: "not during the freeze"}, http.StatusOK, &d)
	if d.State != "denied" || d.Closer != bob || d.CloseReason != "not during the freeze" {
		t.Errorf("denied request = state %q closer %q reason %q", d.State, d.Closer, d.CloseReason)
	}

	cancelled := h.submit(alice, web.CreateRequestBody{Target: servertest.PGTarget, Principal: "readonly"})
	var c web.RequestView
	h.call("POST", urlf("/api/v1/requests/%d/cancel", cancelled.ID), alice, web.ReasonBody{Reason: "fixed it"}, http.StatusOK, &c)
	if c.State != "cancelled" || c.CloseReason != "fixed it" {
		t.Errorf("cancelled request = state %q reason %q", c.State, c.CloseReason)
	}
}

func TestApproverNarrowsWindow(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy", Duration: "1h"})
	var approved web.RequestView
	h.call("POST", urlf("/api/v1/requests/%d/approve", r.ID), bob, web.DecideBody{MaxDuration: "15m"}, http.StatusOK, &approved)
	if got := approved.Grant.End.Sub(approved.Grant.Start); got != 15*time.Minute {
		t.Errorf("window = %s, want the approver's 15m", got)
	}
	if approved.Decisions[0].MaxDuration.Std() != 15*time.Minute {
		t.Errorf("decision max_duration = %s, want 15m", approved.Decisions[0].MaxDuration.Std())
	}
}

func TestListFiltersAndVisibility(t *testing.T) {
	h := newHarness(t)
	mine := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	theirs := h.submit(carol, web.CreateRequestBody{Target: servertest.PGTarget, Principal: "readonly"})
	h.call("POST", urlf("/api/v1/requests/%d/deny", theirs.ID), bob, nil, http.StatusOK, nil)

	ids := func(person, query string) []int64 {
		t.Helper()
		var list web.ListView[web.RequestView]
		h.call("GET", "/api/v1/requests"+query, person, nil, http.StatusOK, &list)
		var out []int64
		for _, r := range list.Items {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		person string
		query  string
		want   []int64
	}{
		{"approver sees all, newest first", bob, "", []int64{theirs.ID, mine.ID}},
		{"approver filters pending", bob, "?state=pending", []int64{mine.ID}},
		{"approver filters two states", bob, "?state=pending,denied", []int64{theirs.ID, mine.ID}},
		{"approver mine is empty", bob, "?mine=true", nil},
		{"requester sees only own", alice, "", []int64{mine.ID}},
		{"other requester sees only own", carol, "", []int64{theirs.ID}},
		{"limit", bob, "?limit=1", []int64{theirs.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(tt.person, tt.query)
			if len(got) != len(tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("ids = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

func TestListIsEmptyArrayNotNull(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/api/v1/requests", "/api/v1/grants", "/api/v1/sessions"} {
		resp := h.call("GET", p, alice, nil, http.StatusOK, nil)
		if !strings.Contains(string(resp.body), `"items": []`) {
			t.Errorf("GET %s = %s, want an empty items array", p, resp.body)
		}
	}
}

func TestBreakGlassGrantsAtOnce(t *testing.T) {
	h := newHarness(t)
	var r web.RequestView
	h.call("POST", "/api/v1/requests", alice, web.CreateRequestBody{
		Target: servertest.SSHTarget, Principal: "deploy", BreakGlass: true, Reason: "outage",
	}, http.StatusCreated, &r)
	if r.State != "approved" || r.Grant == nil {
		t.Fatalf("break-glass request = state %q grant %v, want approved with a grant", r.State, r.Grant)
	}
	if !r.Grant.BreakGlass {
		t.Error("grant is not flagged break-glass")
	}
	if want := servertest.Start.Add(24 * time.Hour); !r.Grant.ReviewDue.Equal(want) {
		t.Errorf("review_due = %s, want %s", r.Grant.ReviewDue, want)
	}

	var reviewed web.GrantView
	h.call("POST", urlf("/api/v1/grants/%d/review", r.Grant.ID), bob, web.ReviewBody{Comment: "justified"}, http.StatusOK, &reviewed)
	if reviewed.ReviewedBy != bob {
		t.Errorf("reviewed_by = %q, want bob", reviewed.ReviewedBy)
	}
	resp := h.do(context.Background(), "POST", urlf("/api/v1/grants/%d/review", r.Grant.ID), dave, nil)
	if resp.status != http.StatusConflict || errorOf(t, resp).Code != "already_decided" {
		t.Errorf("second review: status %d body %s, want 409 already_decided", resp.status, resp.body)
	}
}

func TestLogsCarryIDsButNoToken(t *testing.T) {
	h := newHarness(t)
	granted := h.grant()
	h.do(context.Background(), "GET", "/api/v1/requests", "", nil)
	h.doAuth(context.Background(), "GET", "/api/v1/requests", "Bearer wrong-secret-token", nil)

	logs := h.logs.String()
	for _, secret := range []string{servertest.Token(alice), servertest.Token(bob), "wrong-secret-token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the token %q", secret)
		}
	}
	if !regexp.MustCompile(`http_request=[0-9a-f]{16}`).MatchString(logs) {
		t.Error("no log line carries an http_request id")
	}
	if !strings.Contains(logs, urlf("request=%d", granted.ID)) || !strings.Contains(logs, urlf("grant=%d", granted.Grant.ID)) {
		t.Errorf("the log does not name request %d and grant %d", granted.ID, granted.Grant.ID)
	}
	if !regexp.MustCompile(`msg="http request" .*path=/api/v1/requests/\d+/approve status=200 .*person=bob`).MatchString(logs) {
		t.Error("no request log line names bob as the approver")
	}
	if !strings.Contains(logs, "status=401") || !strings.Contains(logs, "error_code=unauthenticated") {
		t.Error("the request log lines of rejected tokens lack status=401 and error_code=unauthenticated")
	}
}
