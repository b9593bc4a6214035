package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jitgate/jitgate/store"
)

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	}
	for _, path := range []string{"/login", "/requests", "/grants", "/static/app.css", "/nope"} {
		t.Run(path, func(t *testing.T) {
			resp := b.get(path)
			for name, value := range want {
				if got := resp.header.Get(name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
		})
	}
	if got := b.get("/requests").header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control of a page with personal data = %q, want no-store", got)
	}
}

// TestPagesHaveNoInlineCode checks that no page needs 'unsafe-inline':
// a style attribute, an inline script or an event handler attribute would
// be blocked by the Content-Security-Policy.
func TestPagesHaveNoInlineCode(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	b := f.signIn(bob)
	for _, path := range []string{"/login", "/requests", fmt.Sprintf("/requests/%d", r.ID), fmt.Sprintf("/requests/%d/audit", r.ID), "/grants"} {
		body := b.get(path).body
		for _, bad := range []string{"style=", "<style", "<script>", " onclick=", " onload=", " onsubmit=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
}

// TestCrossSitePostsRejected sends votes that a person did not mean to
// send: from another site, without the form token, or with someone else's
// token. Each must get 403 and leave the request pending with no vote.
func TestCrossSitePostsRejected(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	path := fmt.Sprintf("/requests/%d", r.ID)
	bobB, aliceB := f.signIn(bob), f.signIn(alice)
	bobToken, aliceToken := bobB.formToken(path), aliceB.formToken(path)

	tests := []struct {
		name     string
		b        *browser
		token    string
		headers  map[string]string
		wantText string
	}{
		{"foreign Origin", bobB, bobToken, map[string]string{"Origin": "http://evil.example"},
			"This request came from another site, so it was rejected."},
		{"cross-site fetch metadata", bobB, bobToken, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
			"This request came from another site, so it was rejected."},
		{"same-site other origin", bobB, bobToken, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},
			"This request came from another site, so it was rejected."},
		{"no form token", bobB, "", nil,
			"This form is out of date or was sent from another site."},
		{"another person's form token", bobB, aliceToken, nil,
			"This form is out of date or was sent from another site."},
		{"requester without origin or token", aliceB, "", nil,
			"This form is out of date or was sent from another site."},
		{"requester with a foreign Origin", aliceB, aliceToken, map[string]string{"Origin": "http://evil.example"},
			"This request came from another site, so it was rejected."},
		{"requester voting on their own request", aliceB, aliceToken, nil,
			"forbids self-approval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, verb := range []string{"approve", "deny"} {
				form := url.Values{"comment": {"forged"}}
				if tt.token != "" {
					form.Set("csrf_token", tt.token)
				}
				resp := tt.b.postForm(path+"/"+verb, form, tt.headers)
				wantStatus(t, verb, resp, http.StatusForbidden)
				wantText(t, verb, resp, tt.wantText)
			}
			if got := f.request(r.ID).State; got != store.RequestPending {
				t.Errorf("request state = %s, want pending", got)
			}
			if ds := f.decisions(r.ID); len(ds) != 0 {
				t.Errorf("the request has %d decisions, want none", len(ds))
			}
		})
	}

	// The same headers with the right site and token still work, so the
	// rejections above come from the checks and not from a broken form.
	resp := bobB.postForm(path+"/approve", url.Values{"csrf_token": {bobToken}},
		map[string]string{"Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"})
	wantStatus(t, "genuine vote", resp, http.StatusSeeOther)
}

func TestCrossSiteSignOutAndRevokeRejected(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	token := b.formToken("/requests")
	for _, path := range []string{"/logout", "/grants/1/revoke", "/login"} {
		resp := b.postForm(path, url.Values{"csrf_token": {token}, "name": {bob}, "password": {password(bob)}},
			map[string]string{"Sec-Fetch-Site": "cross-site"})
		wantStatus(t, path, resp, http.StatusForbidden)
	}
	wantStatus(t, "still signed in", b.get("/requests"), http.StatusOK)
}

func TestSessionCookieFlags(t *testing.T) {
	for _, tt := range []struct {
		name       string
		tls        bool
		wantSecure bool
	}{
		{"plain HTTP", false, false},
		{"TLS", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.tls)
			resp := f.newBrowser().postForm("/login", url.Values{"name": {bob}, "password": {password(bob)}}, nil)
			wantStatus(t, "sign in", resp, http.StatusSeeOther)
			cookies := (&http.Response{Header: resp.header}).Cookies()
			if len(cookies) != 1 || cookies[0].Name != "jitgate_session" {
				t.Fatalf("cookies = %v, want one jitgate_session", cookies)
			}
			c := cookies[0]
			if !c.HttpOnly {
				t.Errorf("HttpOnly = false, want true")
			}
			if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("SameSite = %v, want Lax", c.SameSite)
			}
			if c.Secure != tt.wantSecure {
				t.Errorf("Secure = %v, want %v", c.Secure, tt.wantSecure)
			}
			if c.MaxAge != 8*3600 {
				t.Errorf("Max-Age = %d, want 8 hours", c.MaxAge)
			}
		})
	}
}
