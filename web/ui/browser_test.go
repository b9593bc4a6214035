package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// screensDir is where the browser test copies its screenshots for people
// to look at; the test's own copies go to a temporary folder.
const screensDir = "/tmp/jitgate-screens"

// viewport is a screen size the pages must read well on.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var viewports = []viewport{
	{name: "laptop", width: 1280, height: 800, scale: 1},
	{name: "phone", width: 390, height: 844, scale: 2, mobile: true},
}

var requestIDPattern = regexp.MustCompile(`request (\d+)`)

// TestBrowserApproveLive is the approver's path in real Chromium: bob
// signs in, a request from alice's waiting CLI appears in his list without
// a reload, he opens it, approves with a comment, and the CLI returns
// approved. It saves screenshots of both pages at laptop and phone sizes.
func TestBrowserApproveLive(t *testing.T) {
	// The server starts first so the browser, cleaned up first, closes its
	// connections before the server stops.
	srv := startServer(t)
	tab := newBrowserTab(t)

	signInBrowser(t, tab, srv.url, bob)
	step(t, tab, "waiting for the live updates to connect",
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="on"]`)),
		chromedp.WaitVisible(chromedp.ID("waiting-empty")),
		// A reload would drop this marker.
		chromedp.Evaluate[chromedp.Void](`window.loadedOnce = true`),
	)

	cli := startCLI(t, srv.url, alice, "request", "web-1", "--login", "deploy",
		"--trigger", "incident", "--reason", "restart the stuck payment worker", "--wait")
	step(t, tab, "waiting for the request to appear in the list",
		chromedp.WaitVisible(chromedp.CSS(`#waiting li[data-request]`)),
	)
	if !eval[bool](t, tab, `window.loadedOnce === true`) {
		t.Fatal("the page reloaded to show the request; it should have updated in place")
	}
	updates, err := strconv.Atoi(eval[string](t, tab, `document.getElementById("live-lists").dataset.updates`))
	if err != nil || updates < 1 {
		t.Errorf("the lists were swapped in %d times (%v), want at least once", updates, err)
	}
	row := pageText(t, tab, "#waiting li[data-request]")
	for _, want := range []string{"alice", "SSH login deploy on web-1", "restart the stuck payment worker", "contract ops"} {
		if !strings.Contains(row, want) {
			t.Errorf("the new row does not say %q; it says %q", want, row)
		}
	}

	shots := t.TempDir()
	screenshots(t, tab, shots, "pending")

	step(t, tab, "opening the request",
		chromedp.Click(chromedp.CSS(`#waiting li[data-request] a`)),
		chromedp.WaitVisible(chromedp.ID("decide")),
	)
	summary := pageText(t, tab, "#summary")
	if want := "alice asks for SSH access as login deploy on web-1 for 30m."; summary != want {
		t.Errorf("request summary = %q, want %q", summary, want)
	}
	screenshots(t, tab, shots, "request")

	step(t, tab, "approving with a comment",
		chromedp.EmulateViewport(1280, 800),
		chromedp.SendKeys(chromedp.ID("comment"), "approved for the payment incident"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.CSS(`#state.approved`)),
	)
	if got := pageText(t, tab, "#decisions"); !strings.Contains(got, "bob") || !strings.Contains(got, "approved for the payment incident") {
		t.Errorf("the decisions list says %q, want bob's approval with its comment", got)
	}

	if code := cli.wait(t); code != 0 {
		t.Fatalf("jitgate request --wait exited %d, want 0 (approved)", code)
	}
	if out := cli.stdout.String(); !regexp.MustCompile(`approved: grant \d+ for deploy on web-1`).MatchString(out) {
		t.Errorf("jitgate request --wait printed %q, want the grant", out)
	}

	step(t, tab, "opening the grants", chromedp.Click(chromedp.CSS(`a[href="/grants"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#grants li[data-grant]`)))
	screenshots(t, tab, shots, "grants")
	step(t, tab, "opening the audit trail", chromedp.Click(chromedp.CSS(`#grants li a[href^="/requests/"]`)),
		chromedp.WaitVisible(chromedp.ID("audit-link")),
		chromedp.Click(chromedp.ID("audit-link")), chromedp.WaitVisible(chromedp.ID("events")))
	if got := pageText(t, tab, "#events"); !strings.Contains(got, "approved for the payment incident") {
		t.Errorf("the audit trail does not show bob's comment: %q", got)
	}
	screenshots(t, tab, shots, "audit")
	checkScreenshots(t, shots, "pending", "request", "grants", "audit")
}

// TestBrowserRequesterSeesNoButton signs alice in to her own request: the
// page shows no approve button and the reason, and votes forged with her
// browser's cookie, or with bob's cookie from another site, are rejected
// and change nothing.
func TestBrowserRequesterSeesNoButton(t *testing.T) {
	// The server starts first so the browser, cleaned up first, closes its
	// connections before the server stops.
	srv := startServer(t)
	tab := newBrowserTab(t)
	out, code := runCLI(t, srv.url, alice, "request", "web-1", "--login", "deploy", "--trigger", "maintenance", "--reason", "rotate the logs")
	if code != 0 {
		t.Fatalf("jitgate request exited %d", code)
	}
	m := requestIDPattern.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("jitgate request printed no request id: %q", out)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	path := fmt.Sprintf("/requests/%d", id)

	signInBrowser(t, tab, srv.url, alice)
	step(t, tab, "opening her own request",
		chromedp.Navigate(srv.url+path),
		chromedp.WaitVisible(chromedp.ID("why-not")),
	)
	if got, want := pageText(t, tab, "#why-not"), "You opened this request, and contract ops forbids self-approval."; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if eval[bool](t, tab, `document.getElementById("approve") !== null || document.getElementById("deny") !== null`) {
		t.Error("the requester's page has an approve or deny button")
	}
	shots := t.TempDir()
	screenshots(t, tab, shots, "request-requester")
	checkScreenshots(t, shots, "request-requester")

	aliceCookie := browserCookie(t, tab, srv.url)
	aliceToken := eval[string](t, tab, `document.querySelector('input[name="csrf_token"]').value`)
	bobJar := httpSignIn(t, srv.url, bob)
	bobToken := formTokenOf(t, bobJar, srv.url+path)

	forged := []struct {
		name    string
		client  *http.Client
		cookie  *http.Cookie
		token   string
		headers map[string]string
	}{
		{"alice's cookie without origin or token", http.DefaultClient, aliceCookie, "", nil},
		{"alice's cookie and token from another site", http.DefaultClient, aliceCookie, aliceToken,
			map[string]string{"Origin": "http://evil.example"}},
		{"alice's cookie and token, her own request", http.DefaultClient, aliceCookie, aliceToken, nil},
		{"bob's cookie and token from another site", bobJar, nil, bobToken,
			map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}},
		{"bob's cookie from a foreign Origin", bobJar, nil, bobToken,
			map[string]string{"Origin": "http://evil.example"}},
	}
	for _, f := range forged {
		t.Run(f.name, func(t *testing.T) {
			form := url.Values{"comment": {"forged"}}
			if f.token != "" {
				form.Set("csrf_token", f.token)
			}
			req, err := http.NewRequest(http.MethodPost, srv.url+path+"/approve", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range f.headers {
				req.Header.Set(k, v)
			}
			if f.cookie != nil {
				req.AddCookie(f.cookie)
			}
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatalf("POST %s/approve: %v", path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
			v := srv.request(t, id)
			if v.State != "pending" || len(v.Decisions) != 0 {
				t.Errorf("after the forged vote the request is %s with %d decisions, want pending with none", v.State, len(v.Decisions))
			}
		})
	}
}

// TestBrowserCrossSiteFormRejected has bob, signed in, send a form that
// another site serves and that posts an approval to jitgate, with his
// real form token in it. Chromium marks the POST cross-site; jitgate
// rejects it with 403 and the request stays pending.
func TestBrowserCrossSiteFormRejected(t *testing.T) {
	// The server starts first so the browser, cleaned up first, closes its
	// connections before the server stops.
	srv := startServer(t)
	tab := newBrowserTab(t)
	out, code := runCLI(t, srv.url, alice, "request", "web-1", "--login", "deploy", "--trigger", "maintenance", "--reason", "rotate the logs")
	if code != 0 {
		t.Fatalf("jitgate request exited %d", code)
	}
	m := requestIDPattern.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("jitgate request printed no request id: %q", out)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)

	signInBrowser(t, tab, srv.url, bob)
	step(t, tab, "opening the request", chromedp.Navigate(fmt.Sprintf("%s/requests/%d", srv.url, id)),
		chromedp.WaitVisible(chromedp.ID("decide")))
	bobToken := eval[string](t, tab, `document.querySelector('#decide input[name="csrf_token"]').value`)

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = crossSiteForm.Execute(w, map[string]string{
			"Action": fmt.Sprintf("%s/requests/%d/approve", srv.url, id), "Token": bobToken,
		})
	}))
	t.Cleanup(evil.Close)
	// localhost is another site than 127.0.0.1 to the browser, and both
	// are loopback.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	step(t, tab, "sending the other site's form",
		chromedp.Navigate(evilURL),
		chromedp.WaitVisible(chromedp.ID("go")),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.ID("message")),
	)
	if got := pageText(t, tab, "#message"); !strings.Contains(got, "This request came from another site, so it was rejected.") {
		t.Errorf("jitgate answered the cross-site form with %q", got)
	}
	v := srv.request(t, id)
	if v.State != "pending" || len(v.Decisions) != 0 {
		t.Errorf("after the cross-site form the request is %s with %d decisions, want pending with none", v.State, len(v.Decisions))
	}
}

// crossSiteForm is the page another site would serve to trick bob.
var crossSiteForm = template.Must(template.New("evil").Parse(`<!doctype html>
<title>Win a prize</title>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.Token}}">
<input type="hidden" name="comment" value="sure">
<button id="go" type="submit">Claim your prize</button>
</form>`))

// screenshots saves full-page PNGs of the current page at each viewport
// into dir as NAME-VIEWPORT.png.
func screenshots(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	for _, vp := range viewports {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		step(t, tab, "resizing to "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
		ctx, cancel := context.WithTimeout(tab, stepTimeout)
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Fatalf("taking a screenshot of %s at %s size: %v", name, vp.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+vp.name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step(t, tab, "restoring the laptop size", chromedp.EmulateViewport(1280, 800))
}

// checkScreenshots checks that the screenshots of each page are PNGs as
// wide as their viewport and copies them to screensDir.
func checkScreenshots(t *testing.T, dir string, pages ...string) {
	t.Helper()
	if err := os.MkdirAll(screensDir, 0o755); err != nil {
		t.Fatalf("creating %s: %v", screensDir, err)
	}
	for _, page := range pages {
		for _, vp := range viewports {
			name := page + "-" + vp.name + ".png"
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("screenshot %s: %v", name, err)
				continue
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("screenshot %s is not a PNG: %v", name, err)
				continue
			}
			size := img.Bounds().Size()
			wantWidth, minHeight := int(float64(vp.width)*vp.scale), int(float64(vp.height)*vp.scale)/2
			if size.X != wantWidth || size.Y < minHeight {
				t.Errorf("screenshot %s is %dx%d, want %d wide and at least %d tall", name, size.X, size.Y, wantWidth, minHeight)
			}
			if err := os.WriteFile(filepath.Join(screensDir, name), b, 0o644); err != nil {
				t.Errorf("copying %s to %s: %v", name, screensDir, err)
			}
		}
	}
	t.Logf("screenshots in %s", screensDir)
}

// browserCookie returns the browser's sign-in cookie for baseURL and
// checks the flags the browser stored.
func browserCookie(t *testing.T, tab context.Context, baseURL string) *http.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{baseURL}})
	if err != nil {
		t.Fatalf("reading the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name != "jitgate_session" {
			continue
		}
		if !c.HTTPOnly {
			t.Error("the browser stored the session cookie without HttpOnly")
		}
		if c.SameSite != network.CookieSameSiteLax {
			t.Errorf("the browser stored the session cookie with SameSite %q, want Lax", c.SameSite)
		}
		return &http.Cookie{Name: c.Name, Value: c.Value}
	}
	t.Fatalf("the browser has no jitgate_session cookie for %s", baseURL)
	return nil
}

// httpSignIn signs person in with a plain HTTP client and returns it.
func httpSignIn(t *testing.T, baseURL, person string) *http.Client {
	t.Helper()
	b := &browser{t: t, base: baseURL}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := b.postForm("/login", url.Values{"name": {person}, "password": {password(person)}}, nil)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("signing in as %s: status %d", person, resp.status)
	}
	return b.client
}

// formTokenOf reads the form token from the page at pageURL.
func formTokenOf(t *testing.T, client *http.Client, pageURL string) string {
	t.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, base: u.Scheme + "://" + u.Host, client: client}
	return b.formToken(u.Path)
}
