package ui_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
	"github.com/jitgate/jitgate/web/ui"
)

// The people of the test config. Each has the password Password(name)
// and the API token Token(name).
const (
	alice = "alice" // engineer who requests access
	bob   = "bob"   // approver of contract ops, owner stage of contract staged
	carol = "carol" // engineer who approves nothing
	dave  = "dave"  // manager stage of contract staged
	erin  = "erin"  // second approver, for the quorum of two of contract dual
)

// start is inside every contract's dates, for the fake clock.
var start = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func password(person string) string { return person + "-password" }

func token(person string) string { return person + "-token" }

// writeConfig writes the test config into dir and returns its path.
// listen is listen.web.
func writeConfig(t testing.TB, dir, listen string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generating a host key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("encoding the host key: %v", err)
	}
	hostKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	args := []any{listen}
	for _, p := range []string{alice, bob, carol, dave, erin} {
		hash, err := bcrypt.GenerateFromPassword([]byte(password(p)), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("hashing a password: %v", err)
		}
		args = append(args, string(hash), identity.HashToken(token(p)))
	}
	args = append(args, hostKey)
	path := filepath.Join(dir, "jitgate.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(configTemplate, args...)), 0o600); err != nil {
		t.Fatalf("writing the test config: %v", err)
	}
	return path
}

// configTemplate takes listen.web, then the password hash and token hash
// of alice, bob, carol, dave and erin, then the SSH host key of web-1.
const configTemplate = `
listen:
  web: %s
state:
  path: jitgate.db
identities:
  users:
    - name: alice
      email: alice@example.com
      groups: [engineers]
      password_hash: "%s"
      api_tokens: [%s]
    - name: bob
      email: bob@example.com
      groups: [approvers]
      password_hash: "%s"
      api_tokens: [%s]
    - name: carol
      groups: [engineers]
      password_hash: "%s"
      api_tokens: [%s]
    - name: dave
      groups: [managers]
      password_hash: "%s"
      api_tokens: [%s]
    - name: erin
      groups: [approvers]
      password_hash: "%s"
      api_tokens: [%s]
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:2201
      host_keys: ["%s"]
      logins: [deploy, root]
  postgres:
    - name: orders
      address: 127.0.0.1:5432
      admin_user: postgres
      roles: [readonly]
      tls: disable
    - name: ledger
      address: 127.0.0.1:5432
      admin_user: postgres
      roles: [auditor]
      tls: disable
contracts:
  - id: ops
    version: 1
    party: Example Operations
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [deploy]
      - target: orders
        roles: [readonly]
    triggers: [incident, maintenance]
    request:
      reason_required: true
    approval:
      approvers:
        groups: [approvers]
      pending_ttl: 30m
    window:
      default: 30m
      max: 2h
      idle_timeout: 15m
      extensions:
        max_count: 1
        max_each: 1h
    retention:
      events: 400d
      recordings: 90d
    compliance: ["soc2:CC6.1", "iso27001:A.9.2.3"]
  - id: staged
    version: 2
    party: Example Payments
    kind: vendor
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: web-1
        logins: [root]
    approval:
      stages:
        - name: manager
          approvers:
            users: [dave]
        - name: owner
          approvers:
            groups: [approvers]
      pending_ttl: 1h
    window:
      default: 1h
      max: 4h
    retention:
      events: 400d
      recordings: 400d
  - id: dual
    version: 1
    party: Example Finance
    kind: internal
    effective: 2026-01-01
    expires: 2099-12-31
    requesters:
      groups: [engineers]
    scope:
      - target: ledger
        roles: [auditor]
    approval:
      approvers:
        groups: [approvers]
      quorum: 2
    window:
      max: 1h
    retention:
      events: 400d
      recordings: 400d
`

// fixture is the pages served in process on a loopback httptest server,
// over a real SQLite store and approval engine with a fake clock.
type fixture struct {
	t      *testing.T
	cfg    *configs.Config
	store  store.Store
	engine *approval.Engine
	clock  *clock.Fake
	srv    *httptest.Server
}

// newFixture serves the pages over plain HTTP, or over TLS when tls is set.
func newFixture(t *testing.T, tls bool) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg, err := configs.Load(writeConfig(t, dir, "127.0.0.1:8080"))
	if err != nil {
		t.Fatalf("loading the test config: %v", err)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, cfg.State.Path)
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	people, err := identity.NewStatic(cfg)
	if err != nil {
		t.Fatalf("indexing identities: %v", err)
	}

	clk := clock.NewFake(start)
	engine, err := approval.New(approval.Options{
		Config: cfg, Store: st, Audit: audit.New(st, clk), Directory: people, Clock: clk, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("creating the engine: %v", err)
	}
	engineCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	if err := engine.Start(engineCtx); err != nil {
		t.Fatalf("starting the engine: %v", err)
	}

	pages, err := ui.New(ui.Options{Engine: engine, Identity: people, Clock: clk, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("ui.New: %v", err)
	}
	f := &fixture{t: t, cfg: cfg, store: st, engine: engine, clock: clk}
	if tls {
		f.srv = httptest.NewTLSServer(pages)
	} else {
		f.srv = httptest.NewServer(pages)
	}
	t.Cleanup(f.srv.Close)
	return f
}

// submit opens a request as person through the engine. Targets other
// than web-1 are Postgres servers.
func (f *fixture) submit(person, target, principal, contract string) *store.Request {
	f.t.Helper()
	kind := approval.KindSSH
	if target != "web-1" {
		kind = approval.KindPostgres
	}
	out, err := f.engine.Submit(context.Background(), approval.Ask{
		Requester: person, Kind: kind, Target: target, Principal: principal,
		Duration: time.Hour, Reason: "restart the stuck worker", Trigger: "incident",
		ContractID: contract,
	})
	if err != nil {
		f.t.Fatalf("submitting a request for %s: %v", person, err)
	}
	return out.Request
}

// request reads request id from the store.
func (f *fixture) request(id int64) *store.Request {
	f.t.Helper()
	r, err := f.store.Request(context.Background(), id)
	if err != nil {
		f.t.Fatalf("reading request %d: %v", id, err)
	}
	return r
}

// decisions reads the decisions of request id.
func (f *fixture) decisions(id int64) []*store.Decision {
	f.t.Helper()
	ds, err := f.store.Decisions(context.Background(), id)
	if err != nil {
		f.t.Fatalf("reading the decisions of request %d: %v", id, err)
	}
	return ds
}

// browser is a signed-in HTTP client with a cookie jar that does not
// follow redirects, so tests see each response as sent.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (f *fixture) newBrowser() *browser {
	f.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	client := &http.Client{
		// The server's transport trusts its TLS certificate; each browser
		// gets its own client so cookie jars stay apart.
		Transport:     f.srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: f.t, base: f.srv.URL, client: client}
}

// signIn returns a browser signed in as person.
func (f *fixture) signIn(person string) *browser {
	f.t.Helper()
	b := f.newBrowser()
	resp := b.postForm("/login", url.Values{"name": {person}, "password": {password(person)}}, nil)
	if resp.status != http.StatusSeeOther {
		f.t.Fatalf("signing in as %s: status %d, want 303; body:\n%s", person, resp.status, resp.body)
	}
	return b
}

// response is a response with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("reading the response to %s %s: %v", req.Method, req.URL.Path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// postForm sends form to path with the extra headers.
func (b *browser) postForm(path string, form url.Values, headers map[string]string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

var formTokenPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken reads the form token from the page at path.
func (b *browser) formToken(path string) string {
	b.t.Helper()
	page := b.get(path)
	m := formTokenPattern.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("GET %s (status %d) has no form token; body:\n%s", path, page.status, page.body)
	}
	return html.UnescapeString(m[1])
}

// text returns the page's visible text with tags removed and spaces
// collapsed, for assertions on what a person reads.
func text(body string) string {
	noTags := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(noTags)), " ")
}

// testLogger sends the pages' log to the test's output, shown when a test
// fails or with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
