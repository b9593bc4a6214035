package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/web"
)

func TestAPIErrorStatuses(t *testing.T) {
	h := newHarness(t)
	const (
		alice = servertest.Alice
		bob   = servertest.Bob
		carol = servertest.Carol
	)
	pending := h.submit(alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})
	dual := h.submit(alice, web.CreateRequestBody{Target: servertest.DualTarget, Principal: "auditor"})
	h.call("POST", urlf("/api/v1/requests/%d/approve", dual.ID), bob, nil, http.StatusOK, nil)
	granted := h.grant()
	grantID := granted.Grant.ID

	huge := `{"target":"web-1","principal":"deploy","reason":"` + strings.Repeat("x", 1<<20) + `"}`
	bearer := func(person string) string { return "Bearer " + servertest.Token(person) }

	tests := []struct {
		name   string
		method string
		path   string
		auth   string
		body   any
		status int
		code   string
	}{
		{"no token", "GET", "/api/v1/requests", "", nil, 401, "unauthenticated"},
		{"wrong token", "GET", "/api/v1/requests", "Bearer not-a-token", nil, 401, "unauthenticated"},
		{"basic scheme", "GET", "/api/v1/requests", "Basic YWxpY2U6eA==", nil, 401, "unauthenticated"},
		{"empty bearer", "GET", "/api/v1/requests", "Bearer ", nil, 401, "unauthenticated"},
		{"non-numeric request id", "GET", "/api/v1/requests/abc", bearer(alice), nil, 404, "not_found"},
		{"unknown request", "GET", "/api/v1/requests/999", bearer(alice), nil, 404, "not_found"},
		{"approve unknown request", "POST", "/api/v1/requests/999/approve", bearer(bob), nil, 404, "not_found"},
		{"unknown grant", "POST", "/api/v1/grants/999/revoke", bearer(bob), nil, 404, "not_found"},
		{"unknown route", "GET", "/api/v1/nothing", bearer(alice), nil, 404, "not_found"},
		{"wrong method", "DELETE", urlf("/api/v1/requests/%d", pending.ID), bearer(alice), nil, 404, "not_found"},
		{"malformed json", "POST", "/api/v1/requests", bearer(alice), `{"target":`, 400, "bad_json"},
		{"not an object", "POST", "/api/v1/requests", bearer(alice), `["web-1"]`, 400, "bad_json"},
		{"unknown field", "POST", "/api/v1/requests", bearer(alice), `{"target":"web-1","principal":"deploy","colour":"red"}`, 400, "bad_json"},
		{"wrong field type", "POST", "/api/v1/requests", bearer(alice), `{"target":"web-1","principal":"deploy","break_glass":"yes"}`, 400, "bad_json"},
		{"empty body", "POST", "/api/v1/requests", bearer(alice), "", 400, "bad_json"},
		{"trailing data", "POST", urlf("/api/v1/requests/%d/deny", pending.ID), bearer(bob), `{}{}`, 400, "bad_json"},
		{"body over 1 MiB", "POST", "/api/v1/requests", bearer(alice), huge, 400, "bad_json"},
		{"bad state filter", "GET", "/api/v1/requests?state=open", bearer(alice), nil, 400, "bad_request"},
		{"bad mine filter", "GET", "/api/v1/requests?mine=perhaps", bearer(alice), nil, 400, "bad_request"},
		{"bad limit", "GET", "/api/v1/grants?limit=0", bearer(alice), nil, 400, "bad_request"},
		{"wait timeout too long", "GET", urlf("/api/v1/requests/%d/wait?timeout=10m", pending.ID), bearer(alice), nil, 400, "bad_request"},
		{"non-approver approves", "POST", urlf("/api/v1/requests/%d/approve", pending.ID), bearer(carol), nil, 403, "not_approver"},
		{"requester approves", "POST", urlf("/api/v1/requests/%d/approve", pending.ID), bearer(alice), nil, 403, "self_approval"},
		{"other person cancels", "POST", urlf("/api/v1/requests/%d/cancel", pending.ID), bearer(carol), nil, 403, "not_requester"},
		{"other person reads request", "GET", urlf("/api/v1/requests/%d", pending.ID), bearer(carol), nil, 403, "not_approver"},
		{"other person reads grant", "GET", urlf("/api/v1/grants/%d", grantID), bearer(carol), nil, 403, "not_approver"},
		{"non-approver revokes", "POST", urlf("/api/v1/grants/%d/revoke", grantID), bearer(carol), nil, 403, "not_approver"},
		{"non-approver verifies audit", "GET", "/api/v1/audit/verify", bearer(carol), nil, 403, "not_approver"},
		{"login outside scope", "POST", "/api/v1/requests", bearer(alice), web.CreateRequestBody{Target: "web-1", Principal: "root"}, 403, "out_of_scope"},
		{"requester not eligible", "POST", "/api/v1/requests", bearer(bob), web.CreateRequestBody{Target: "web-1", Principal: "deploy"}, 403, "not_eligible"},
		{"unknown target", "POST", "/api/v1/requests", bearer(alice), web.CreateRequestBody{Target: "web-9", Principal: "deploy"}, 422, "invalid"},
		{"kind does not match target", "POST", "/api/v1/requests", bearer(alice), web.CreateRequestBody{Target: "web-1", Kind: "postgres", Principal: "deploy"}, 422, "invalid"},
		{"missing principal", "POST", "/api/v1/requests", bearer(alice), web.CreateRequestBody{Target: "web-1"}, 422, "invalid"},
		{"bad duration", "POST", "/api/v1/requests", bearer(alice), web.CreateRequestBody{Target: "web-1", Principal: "deploy", Duration: "soon"}, 422, "invalid"},
		{"deny with max duration", "POST", urlf("/api/v1/requests/%d/deny", pending.ID), bearer(bob), web.DecideBody{MaxDuration: "10m"}, 422, "invalid"},
		{"extension over the cap", "POST", urlf("/api/v1/grants/%d/extend", grantID), bearer(bob), web.ExtendBody{By: "3h"}, 422, "extension_cap"},
		{"extension without by", "POST", urlf("/api/v1/grants/%d/extend", grantID), bearer(bob), web.ExtendBody{}, 422, "invalid"},
		{"review of a normal grant", "POST", urlf("/api/v1/grants/%d/review", grantID), bearer(bob), nil, 422, "invalid"},
		{"second vote", "POST", urlf("/api/v1/requests/%d/approve", dual.ID), bearer(bob), nil, 409, "already_decided"},
		{"approve a decided request", "POST", urlf("/api/v1/requests/%d/approve", granted.ID), bearer(bob), nil, 409, "not_pending"},
		{"cancel a decided request", "POST", urlf("/api/v1/requests/%d/cancel", granted.ID), bearer(alice), nil, 409, "not_pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.doAuth(context.Background(), tt.method, tt.path, tt.auth, tt.body)
			if resp.status != tt.status {
				t.Errorf("status = %d, want %d; body: %.300s", resp.status, tt.status, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			e := errorOf(t, resp)
			if e.Code != tt.code {
				t.Errorf("code = %q, want %q (message %q)", e.Code, tt.code, e.Message)
			}
			if e.Message == "" {
				t.Error("message is empty")
			}
			if resp.header.Get("X-Request-Id") == "" {
				t.Error("X-Request-Id header is missing")
			}
		})
	}
}

func TestUnauthenticatedAsksForBearer(t *testing.T) {
	h := newHarness(t)
	resp := h.do(context.Background(), "GET", "/api/v1/grants", "", nil)
	if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
	}
}

func TestErrorMessagesNameTheProblem(t *testing.T) {
	h := newHarness(t)
	r := h.submit(servertest.Alice, web.CreateRequestBody{Target: servertest.SSHTarget, Principal: "deploy"})

	resp := h.do(context.Background(), "POST", urlf("/api/v1/requests/%d/approve", r.ID), servertest.Carol, nil)
	if msg := errorOf(t, resp).Message; !strings.Contains(msg, "carol is not an approver") {
		t.Errorf("non-approver message = %q, want it to name carol as no approver", msg)
	}
	resp = h.do(context.Background(), "POST", "/api/v1/requests", servertest.Alice, `{"target":"web-1","colour":"red"}`)
	if msg := errorOf(t, resp).Message; !strings.Contains(msg, `"colour"`) {
		t.Errorf("unknown-field message = %q, want it to name the field", msg)
	}
	resp = h.do(context.Background(), "GET", "/api/v1/requests/abc", servertest.Alice, nil)
	if msg := errorOf(t, resp).Message; !strings.Contains(msg, `"abc"`) {
		t.Errorf("bad-id message = %q, want it to quote the id", msg)
	}
}
