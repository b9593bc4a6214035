package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/store"
)

func wantStatus(t *testing.T, label string, got response, want int) {
	t.Helper()
	if got.status != want {
		t.Fatalf("%s: status %d, want %d; page text: %s", label, got.status, want, text(got.body))
	}
}

func wantText(t *testing.T, label string, got response, substr string) {
	t.Helper()
	if !strings.Contains(text(got.body), substr) {
		t.Errorf("%s: page does not contain %q; page text: %s", label, substr, text(got.body))
	}
}

func wantNoText(t *testing.T, label string, got response, substr string) {
	t.Helper()
	if strings.Contains(got.body, substr) {
		t.Errorf("%s: page contains %q, want it absent", label, substr)
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t, false)
	tests := []struct {
		name, user, password, next string
		wantStatus                 int
		wantLocation, wantText     string
	}{
		{name: "right password", user: bob, password: password(bob), next: "/requests/7",
			wantStatus: http.StatusSeeOther, wantLocation: "/requests/7"},
		{name: "wrong password", user: bob, password: "guess", wantStatus: http.StatusUnauthorized,
			wantText: "Invalid user name or password."},
		{name: "unknown user", user: "mallory", password: "x", wantStatus: http.StatusUnauthorized,
			wantText: "Invalid user name or password."},
		{name: "empty password", user: bob, password: "", wantStatus: http.StatusUnauthorized,
			wantText: "Invalid user name or password."},
		{name: "next on another site", user: bob, password: password(bob), next: "//evil.example/x",
			wantStatus: http.StatusSeeOther, wantLocation: "/requests"},
		{name: "absolute next", user: bob, password: password(bob), next: "http://evil.example/",
			wantStatus: http.StatusSeeOther, wantLocation: "/requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := f.newBrowser()
			resp := b.postForm("/login", url.Values{"name": {tt.user}, "password": {tt.password}, "next": {tt.next}}, nil)
			wantStatus(t, "POST /login", resp, tt.wantStatus)
			if got := resp.header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			if tt.wantText != "" {
				wantText(t, "POST /login", resp, tt.wantText)
			}
			signedIn := strings.Contains(resp.header.Get("Set-Cookie"), "jitgate_session=")
			if want := tt.wantStatus == http.StatusSeeOther; signedIn != want {
				t.Errorf("session cookie set = %v, want %v", signedIn, want)
			}
		})
	}
}

func TestPagesNeedSignIn(t *testing.T) {
	f := newFixture(t, false)
	b := f.newBrowser()
	tests := []struct {
		method, path string
		wantStatus   int
		wantLocation string
	}{
		{"GET", "/", http.StatusSeeOther, "/requests"},
		{"GET", "/requests", http.StatusSeeOther, "/login?next=%2Frequests"},
		{"GET", "/requests/3", http.StatusSeeOther, "/login?next=%2Frequests%2F3"},
		{"GET", "/grants", http.StatusSeeOther, "/login?next=%2Fgrants"},
		{"GET", "/requests?fragment=1", http.StatusUnauthorized, ""},
		{"GET", "/events", http.StatusUnauthorized, ""},
		{"POST", "/requests/3/approve", http.StatusUnauthorized, ""},
		{"POST", "/grants/3/revoke", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var resp response
			if tt.method == "GET" {
				resp = b.get(tt.path)
			} else {
				resp = b.postForm(tt.path, url.Values{}, nil)
			}
			wantStatus(t, tt.path, resp, tt.wantStatus)
			if got := resp.header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
		})
	}
}

func TestPendingListByViewer(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	row := fmt.Sprintf(`data-request="%d"`, r.ID)

	bobPage := f.signIn(bob).get("/requests")
	wantStatus(t, "bob's list", bobPage, http.StatusOK)
	waiting, _, _ := strings.Cut(bobPage.body, `id="mine-heading"`)
	if !strings.Contains(waiting, row) {
		t.Errorf("bob's waiting list lacks request %d; page text: %s", r.ID, text(bobPage.body))
	}
	wantText(t, "bob's list", bobPage, "restart the stuck worker")

	alicePage := f.signIn(alice).get("/requests")
	wantText(t, "alice's list", alicePage, "Nothing is waiting for you.")
	_, mine, _ := strings.Cut(alicePage.body, `id="mine-heading"`)
	if !strings.Contains(mine, row) {
		t.Errorf("alice's own list lacks request %d; page text: %s", r.ID, text(alicePage.body))
	}

	carolPage := f.signIn(carol).get("/requests")
	wantNoText(t, "carol's list", carolPage, row)
}

func TestListFragment(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	frag := f.signIn(bob).get("/requests?fragment=1")
	wantStatus(t, "fragment", frag, http.StatusOK)
	wantNoText(t, "fragment", frag, "<html")
	wantText(t, "fragment", frag, "Waiting for your decision")
	wantText(t, "fragment", frag, fmt.Sprintf("Request %d", r.ID))
}

func TestRequestPageShowsTerms(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	page := f.signIn(bob).get(fmt.Sprintf("/requests/%d", r.ID))
	wantStatus(t, "request page", page, http.StatusOK)
	for _, want := range []string{
		"alice asks for SSH access as login deploy on web-1 for 1h.",
		"Requester alice · alice@example.com",
		"Trigger incident",
		"Reason restart the stuck worker",
		"Requested window 1h",
		"Maximum window 2h under contract ops",
		"Contract ops v1",
		"Who may ask group engineers",
		"Scope web-1 as login deploy; orders as role readonly",
		"A request needs a reason",
		"Approval 1 approval from group approvers",
		"Self-approval forbidden",
		"Window 30m by default, at most 2h",
		"Extensions up to 1 extension of at most 1h each",
		"idle sessions close after 15m",
		"Compliance controls soc2:CC6.1, iso27001:A.9.2.3",
		"Shorter: 30m",
	} {
		wantText(t, "request page", page, want)
	}
	wantNoText(t, "request page", page, "Shorter: 1h")
	if !strings.Contains(page.body, `id="approve"`) || !strings.Contains(page.body, `id="deny"`) {
		t.Errorf("request page lacks the approve and deny buttons")
	}
}

func TestNoButtonsWithReason(t *testing.T) {
	f := newFixture(t, false)
	ops := f.submit(alice, "web-1", "deploy", "")
	staged := f.submit(carol, "web-1", "root", "staged")
	decided := f.submit(carol, "web-1", "deploy", "")
	if _, err := f.engine.Decide(context.Background(), approval.Vote{RequestID: decided.ID, Approver: bob, Approve: true}); err != nil {
		t.Fatalf("bob approving request %d: %v", decided.ID, err)
	}
	dual := f.submit(carol, "ledger", "auditor", "")
	if _, err := f.engine.Decide(context.Background(), approval.Vote{RequestID: dual.ID, Approver: bob, Approve: true}); err != nil {
		t.Fatalf("bob approving request %d: %v", dual.ID, err)
	}

	tests := []struct {
		name    string
		viewer  string
		request int64
		want    string
	}{
		{"own request", alice, ops.ID, "You opened this request, and contract ops forbids self-approval."},
		{"stage of someone else", bob, staged.ID, `You are not in the approver groups of stage "manager": it needs user dave.`},
		{"decided request", bob, decided.ID, "This request is approved, so it takes no more decisions."},
		{"own vote cast", bob, dual.ID, "You already decided on this request."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := f.signIn(tt.viewer).get(fmt.Sprintf("/requests/%d", tt.request))
			wantStatus(t, "request page", page, http.StatusOK)
			wantText(t, "request page", page, tt.want)
			wantNoText(t, "request page", page, `id="approve"`)
			wantNoText(t, "request page", page, `id="deny"`)
		})
	}
}

func TestHiddenRequestIsNotFound(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	carolB := f.signIn(carol)
	for _, path := range []string{fmt.Sprintf("/requests/%d", r.ID), fmt.Sprintf("/requests/%d/audit", r.ID), "/requests/999"} {
		page := carolB.get(path)
		wantStatus(t, path, page, http.StatusNotFound)
		wantNoText(t, path, page, "restart the stuck worker")
	}
}

func TestApproveWithShorterWindow(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	b := f.signIn(bob)
	path := fmt.Sprintf("/requests/%d", r.ID)
	tok := b.formToken(path)

	resp := b.postForm(path+"/approve", url.Values{
		"csrf_token": {tok}, "comment": {"ok for the incident"}, "max_duration": {"30m"},
	}, nil)
	wantStatus(t, "approve", resp, http.StatusSeeOther)
	if got := resp.header.Get("Location"); got != path {
		t.Errorf("Location = %q, want %q", got, path)
	}
	if got := f.request(r.ID).State; got != store.RequestApproved {
		t.Fatalf("request state = %s, want approved", got)
	}
	g, err := f.store.GrantByRequest(context.Background(), r.ID)
	if err != nil {
		t.Fatalf("reading the grant: %v", err)
	}
	if got := g.End.Sub(g.Start); got != 30*time.Minute {
		t.Errorf("grant window = %s, want the shorter 30m", got)
	}

	page := b.get(path)
	wantText(t, "approved page", page, "approved")
	wantText(t, "approved page", page, "ok for the incident")
	wantText(t, "approved page", page, "at most 30m")
	wantText(t, "approved page", page, fmt.Sprintf("Grant %d is active", g.ID))
}

func TestDenyWithComment(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	b := f.signIn(bob)
	path := fmt.Sprintf("/requests/%d", r.ID)
	resp := b.postForm(path+"/deny", url.Values{
		"csrf_token": {b.formToken(path)}, "comment": {"not during the freeze"}, "max_duration": {"15m"},
	}, nil)
	wantStatus(t, "deny", resp, http.StatusSeeOther)
	got := f.request(r.ID)
	if got.State != store.RequestDenied {
		t.Fatalf("request state = %s, want denied", got.State)
	}
	if got.CloseReason != "not during the freeze" {
		t.Errorf("close reason = %q, want the comment", got.CloseReason)
	}
	wantText(t, "denied page", b.get(path), "Closed by bob: not during the freeze")
}

func TestStagesInOrder(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(carol, "web-1", "root", "staged")
	path := fmt.Sprintf("/requests/%d", r.ID)

	daveB := f.signIn(dave)
	page := daveB.get(path)
	wantText(t, "dave's page", page, "Open: stage 1 of 2 (manager).")
	resp := daveB.postForm(path+"/approve", url.Values{"csrf_token": {daveB.formToken(path)}}, nil)
	wantStatus(t, "dave approves", resp, http.StatusSeeOther)

	bobB := f.signIn(bob)
	page = bobB.get(path)
	wantText(t, "bob's page", page, "Open: stage 2 of 2 (owner).")
	resp = bobB.postForm(path+"/approve", url.Values{"csrf_token": {bobB.formToken(path)}}, nil)
	wantStatus(t, "bob approves", resp, http.StatusSeeOther)
	if got := f.request(r.ID).State; got != store.RequestApproved {
		t.Errorf("request state = %s, want approved after both stages", got)
	}
}

func TestVoteRefusedShowsReason(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	path := fmt.Sprintf("/requests/%d", r.ID)
	b := f.signIn(bob)
	tok := b.formToken(path)
	wantStatus(t, "first vote", b.postForm(path+"/approve", url.Values{"csrf_token": {tok}}, nil), http.StatusSeeOther)

	again := b.postForm(path+"/deny", url.Values{"csrf_token": {tok}}, nil)
	wantStatus(t, "second vote", again, http.StatusConflict)
	wantText(t, "second vote", again, fmt.Sprintf("Request %d is approved, not pending.", r.ID))

	long := b.postForm(path+"/approve", url.Values{"csrf_token": {tok}, "comment": {strings.Repeat("x", 1001)}}, nil)
	wantStatus(t, "long comment", long, http.StatusBadRequest)
	wantText(t, "long comment", long, "The comment has 1001 characters; shorten it to 1000 or fewer.")
}

func TestBadShorterWindow(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	path := fmt.Sprintf("/requests/%d", r.ID)
	b := f.signIn(bob)
	resp := b.postForm(path+"/approve", url.Values{"csrf_token": {b.formToken(path)}, "max_duration": {"soon"}}, nil)
	wantStatus(t, "approve", resp, http.StatusBadRequest)
	wantText(t, "approve", resp, `The shorter window "soon" is not a duration such as 30m or 2h.`)
	if got := f.request(r.ID).State; got != store.RequestPending {
		t.Errorf("request state = %s, want pending", got)
	}
}

func TestCancelOwnRequest(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	path := fmt.Sprintf("/requests/%d", r.ID)
	b := f.signIn(alice)
	resp := b.postForm(path+"/cancel", url.Values{"csrf_token": {b.formToken(path)}, "reason": {"fixed itself"}}, nil)
	wantStatus(t, "cancel", resp, http.StatusSeeOther)
	if got := f.request(r.ID).State; got != store.RequestCancelled {
		t.Errorf("request state = %s, want cancelled", got)
	}
}

func TestAuditTrail(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	path := fmt.Sprintf("/requests/%d", r.ID)
	b := f.signIn(bob)
	wantStatus(t, "approve", b.postForm(path+"/approve", url.Values{
		"csrf_token": {b.formToken(path)}, "comment": {"looks fine"},
	}, nil), http.StatusSeeOther)

	page := b.get(path + "/audit")
	wantStatus(t, "audit page", page, http.StatusOK)
	body := text(page.body)
	last := -1
	for _, typ := range []string{"request.created", "request.decision", "request.approved", "grant.created"} {
		i := strings.Index(body, typ)
		if i < 0 {
			t.Errorf("audit page lacks %s; page text: %s", typ, body)
			continue
		}
		if i < last {
			t.Errorf("audit page lists %s out of order", typ)
		}
		last = i
	}
	wantText(t, "audit page", page, "by bob")
	wantText(t, "audit page", page, `"comment": "looks fine"`)
}

func TestGrantsAndRevoke(t *testing.T) {
	f := newFixture(t, false)
	r := f.submit(alice, "web-1", "deploy", "")
	out, err := f.engine.Decide(context.Background(), approval.Vote{RequestID: r.ID, Approver: bob, Approve: true})
	if err != nil {
		t.Fatalf("approving: %v", err)
	}
	g := out.Grant
	row := fmt.Sprintf(`data-grant="%d"`, g.ID)
	revokePath := fmt.Sprintf("/grants/%d/revoke", g.ID)

	wantNoText(t, "carol's grants", f.signIn(carol).get("/grants"), row)
	alicePage := f.signIn(alice).get("/grants")
	wantText(t, "alice's grants", alicePage, fmt.Sprintf("Grant %d · alice", g.ID))
	if !strings.Contains(alicePage.body, `action="`+revokePath+`"`) {
		t.Errorf("the grantee's page lacks the revoke form")
	}

	b := f.signIn(bob)
	page := b.get("/grants")
	wantText(t, "bob's grants", page, "No live sessions.")
	resp := b.postForm(revokePath, url.Values{"csrf_token": {b.formToken("/grants")}, "reason": {"done"}}, nil)
	wantStatus(t, "revoke", resp, http.StatusSeeOther)
	got, err := f.store.Grant(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.GrantRevoked || got.Closer != bob || got.CloseReason != "done" {
		t.Errorf("grant after revoke = %s by %q (%q), want revoked by bob (done)", got.State, got.Closer, got.CloseReason)
	}
	wantText(t, "grants after revoke", b.get("/grants"), "No active grants that you may see.")

	again := b.postForm(revokePath, url.Values{"csrf_token": {b.formToken("/grants")}}, nil)
	wantStatus(t, "second revoke", again, http.StatusConflict)
	wantText(t, "second revoke", again, fmt.Sprintf("Grant %d is revoked, not active.", g.ID))
}

func TestEventStreamAnnouncesChanges(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("Content-Type = %q, want text/event-stream", got)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("event stream ended: %v", lines.Err())
		}
		return lines.Text()
	}
	if got := next(); got != "retry: 3000" {
		t.Fatalf("first line = %q, want the retry field", got)
	}
	next() // the blank line that ends the retry block

	f.submit(alice, "web-1", "deploy", "")
	if got := next(); got != "event: changed" {
		t.Fatalf("after a submit the stream sent %q, want event: changed", got)
	}
}

func TestEventStreamEndsWithSignIn(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // retry
	lines.Scan() // blank line
	f.clock.Advance(8 * time.Hour)
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) == 0 || got[0] != "event: signedout" {
		t.Fatalf("after the sign-in expired the stream sent %q, want event: signedout then the end", got)
	}
}

func TestSignInExpiresAfterEightHours(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	wantStatus(t, "before expiry", b.get("/requests"), http.StatusOK)
	f.clock.Advance(8*time.Hour - time.Second)
	wantStatus(t, "just before expiry", b.get("/requests"), http.StatusOK)
	f.clock.Advance(time.Second)
	resp := b.get("/requests")
	wantStatus(t, "after expiry", resp, http.StatusSeeOther)
	if got := resp.header.Get("Location"); !strings.HasPrefix(got, "/login") {
		t.Errorf("Location = %q, want the sign-in form", got)
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t, false)
	b := f.signIn(bob)
	resp := b.postForm("/logout", url.Values{"csrf_token": {b.formToken("/requests")}}, nil)
	wantStatus(t, "sign out", resp, http.StatusSeeOther)
	wantStatus(t, "after sign-out", b.get("/requests"), http.StatusSeeOther)
}

func TestFailedSignInsAreCapped(t *testing.T) {
	f := newFixture(t, false)
	b := f.newBrowser()
	for i := range 10 {
		resp := b.postForm("/login", url.Values{"name": {bob}, "password": {"guess"}}, nil)
		wantStatus(t, fmt.Sprintf("failure %d", i+1), resp, http.StatusUnauthorized)
	}
	blocked := b.postForm("/login", url.Values{"name": {bob}, "password": {password(bob)}}, nil)
	wantStatus(t, "right password after 10 failures", blocked, http.StatusTooManyRequests)
	wantText(t, "blocked", blocked, "Too many failed sign-ins from your address. Try again after 10:15 UTC.")

	f.clock.Advance(15 * time.Minute)
	wantStatus(t, "after the window", b.postForm("/login", url.Values{"name": {bob}, "password": {password(bob)}}, nil), http.StatusSeeOther)
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t, false)
	b := f.newBrowser()
	login := b.get("/login")
	for _, name := range []string{"app.css", "app.js", "icon.svg"} {
		t.Run(name, func(t *testing.T) {
			i := strings.Index(login.body, "/static/"+name+"?v=")
			if i < 0 {
				t.Fatalf("the sign-in page does not link %s", name)
			}
			link := login.body[i:]
			link = link[:strings.IndexByte(link, '"')]
			resp := b.get(link)
			wantStatus(t, link, resp, http.StatusOK)
			if got := resp.header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("Cache-Control of a versioned asset = %q, want immutable", got)
			}
			if len(resp.body) == 0 {
				t.Errorf("%s is empty", name)
			}
		})
	}
	wantStatus(t, "unknown asset", b.get("/static/nope.js"), http.StatusNotFound)
	wantStatus(t, "unknown page", b.get("/nope"), http.StatusNotFound)
}
