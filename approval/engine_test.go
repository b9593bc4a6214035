package approval_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

// testConfig has three contracts: "ops" (one approver from sre, ticket
// pattern, extensions, break-glass), "dual" (quorum 2, two ordered stages)
// and "office" (permitted hours). Contract ends on 2027-06-30.
const testConfig = `
identities:
  users:
    - {name: alice, groups: [eng]}
    - {name: bob, groups: [sre]}
    - {name: carol, groups: [sre]}
    - {name: dave, groups: [sre, managers]}
    - {name: erin, groups: [managers]}
    - {name: mallory, groups: [eng]}
    - {name: oncall, groups: [eng, on-call]}
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:22
      host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
      logins: [deploy, root]
  postgres:
    - name: orders
      address: 127.0.0.1:5432
      admin_user: jitgate
      admin_password_file: /dev/null
      roles: [readonly, readwrite]
contracts:
  - id: ops
    version: 1
    party: Ops
    kind: internal
    effective: 2026-01-01
    expires: 2027-06-30
    requesters: {groups: [eng]}
    scope:
      - {target: web-1, logins: [deploy]}
      - {target: orders, roles: [readonly]}
    triggers: [incident, change]
    request: {reason_required: true, ticket_pattern: "INC-[0-9]+"}
    approval:
      approvers: {groups: [sre]}
      pending_ttl: 30m
    window:
      default: 1h
      max: 4h
      max_sessions: 2
      extensions: {max_count: 2, max_each: 1h, max_total: 90m}
    break_glass:
      requesters: {groups: [on-call]}
      max_window: 1h
      review_within: 24h
      reviewers: {groups: [managers]}
  - id: dual
    version: 1
    party: Vendor
    kind: vendor
    effective: 2026-01-01
    expires: 2027-06-30
    requesters: {users: [alice]}
    scope:
      - {target: orders, roles: [readwrite]}
    approval:
      stages:
        - {name: managers, approvers: {groups: [managers]}, quorum: 1}
        - {name: sre, approvers: {groups: [sre]}, quorum: 2}
      pending_ttl: 1h
    window: {default: 2h, max: 8h}
  - id: office
    version: 1
    party: Office
    kind: internal
    effective: 2026-01-01
    expires: 2027-06-30
    requesters: {users: [mallory]}
    scope:
      - {target: web-1, logins: [root]}
    approval:
      approvers: {groups: [sre]}
    window:
      max: 4h
      hours: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", time_zone: Europe/Berlin}
      extensions: {max_count: 1, max_each: 4h}
`

// Wednesday 2026-12-02 10:00 in Berlin (09:00 UTC).
var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	engine *approval.Engine
	clock  *clock.Fake
	store  store.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := configs.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(start)
	e, err := approval.New(approval.Options{
		Config: cfg, Store: st, Audit: audit.New(st, clk), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{engine: e, clock: clk, store: st}
}

func opsAsk() approval.Ask {
	return approval.Ask{
		Requester: "alice", Kind: approval.KindSSH, Target: "web-1", Principal: "deploy",
		Duration: 2 * time.Hour, Trigger: "incident", Reason: "disk full", Ticket: "INC-42",
	}
}

func (f *fixture) submit(t *testing.T, ask approval.Ask) *store.Request {
	t.Helper()
	sub, err := f.engine.Submit(context.Background(), ask)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return sub.Request
}

func (f *fixture) vote(id int64, who string, approve bool) (*approval.Decided, error) {
	return f.engine.Decide(context.Background(), approval.Vote{RequestID: id, Approver: who, Approve: approve, Comment: "ok"})
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
	var pe *approval.PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PolicyError", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		edit func(*approval.Ask)
		kind error
		text string
	}{
		{"login outside scope", func(a *approval.Ask) { a.Principal = "postgres" }, approval.ErrOutOfScope, "login postgres on web-1"},
		{"unknown target", func(a *approval.Ask) { a.Target = "web-9" }, approval.ErrOutOfScope, "web-9"},
		{"role on ssh kind", func(a *approval.Ask) {
			a.Kind = approval.KindPostgres
			a.Target = "orders"
			a.Principal = "readwrite"
			a.Requester = "mallory"
		}, approval.ErrNotEligible, "mallory may not request"},
		{"requester not eligible", func(a *approval.Ask) { a.Requester = "bob" }, approval.ErrNotEligible, "bob may not request"},
		{"unknown person", func(a *approval.Ask) { a.Requester = "zed" }, approval.ErrNotEligible, `unknown person "zed"`},
		{"ticket not matching", func(a *approval.Ask) { a.Ticket = "CHG-1" }, approval.ErrInvalid, `ticket "CHG-1" does not match`},
		{"ticket with suffix", func(a *approval.Ask) { a.Ticket = "INC-1x" }, approval.ErrInvalid, "does not match"},
		{"missing reason", func(a *approval.Ask) { a.Reason = "  " }, approval.ErrInvalid, "requires a reason"},
		{"missing trigger", func(a *approval.Ask) { a.Trigger = "" }, approval.ErrInvalid, "requires a trigger"},
		{"unknown trigger", func(a *approval.Ask) { a.Trigger = "curiosity" }, approval.ErrInvalid, `trigger "curiosity"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ask := opsAsk()
			tc.edit(&ask)
			_, err := f.engine.Submit(context.Background(), ask)
			wantKind(t, err, tc.kind)
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("message %q does not contain %q", err, tc.text)
			}
		})
	}
	all, err := f.store.Requests(context.Background(), store.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("refused asks created %d requests, want 0", len(all))
	}
}

func TestApproveCreatesGrant(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	if r.State != store.RequestPending || r.ContractHash == "" {
		t.Fatalf("request = %+v, want pending with a contract hash", r)
	}
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	if d.Grant == nil {
		t.Fatal("quorum 1 approval created no grant")
	}
	if got := d.Grant.End.Sub(d.Grant.Start); got != 2*time.Hour {
		t.Errorf("window = %s, want the 2h asked", got)
	}
	if d.Grant.ContractHash != r.ContractHash {
		t.Errorf("grant contract hash %s differs from the request's %s", d.Grant.ContractHash, r.ContractHash)
	}
	g, err := f.engine.Match(context.Background(), "alice", approval.KindSSH, "web-1", "deploy")
	if err != nil || g.ID != d.Grant.ID {
		t.Fatalf("Match = %v, %v; want grant %d", g, err, d.Grant.ID)
	}
	_, err = f.engine.Match(context.Background(), "alice", approval.KindSSH, "web-1", "root")
	wantKind(t, err, approval.ErrNoGrant)
}

func TestSelfApprovalForbidden(t *testing.T) {
	f := newFixture(t)
	ask := opsAsk()
	ask.Requester = "oncall"
	r := f.submit(t, ask)
	// oncall is not in sre, so the self-approval check must run first to be named.
	_, err := f.vote(r.ID, "oncall", true)
	wantKind(t, err, approval.ErrSelfApproval)
}

func TestApproverOutsideGroups(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	_, err := f.vote(r.ID, "erin", true)
	wantKind(t, err, approval.ErrNotApprover)
	got, _ := f.store.Request(context.Background(), r.ID)
	if got.State != store.RequestPending {
		t.Errorf("state after a refused vote = %s, want pending", got.State)
	}
}

func TestOneDenyEndsRequest(t *testing.T) {
	f := newFixture(t)
	ask := approval.Ask{Requester: "alice", Kind: approval.KindPostgres, Target: "orders", Principal: "readwrite", Reason: "fix"}
	r := f.submit(t, ask)
	if _, err := f.vote(r.ID, "erin", true); err != nil {
		t.Fatal(err)
	}
	d, err := f.vote(r.ID, "bob", false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Request.State != store.RequestDenied || d.Grant != nil {
		t.Fatalf("after a deny: state %s grant %v, want denied and no grant", d.Request.State, d.Grant)
	}
	_, err = f.vote(r.ID, "carol", true)
	wantKind(t, err, approval.ErrNotPending)
}

func TestQuorumAndStages(t *testing.T) {
	f := newFixture(t)
	ask := approval.Ask{Requester: "alice", Kind: approval.KindPostgres, Target: "orders", Principal: "readwrite", Reason: "migration"}
	r := f.submit(t, ask)

	_, err := f.vote(r.ID, "bob", true)
	wantKind(t, err, approval.ErrNotApprover) // the managers stage comes first

	d, err := f.vote(r.ID, "erin", true)
	if err != nil || d.Grant != nil || d.Request.Stage != 1 {
		t.Fatalf("after stage 1: %+v, %v; want stage 1 open and no grant", d, err)
	}
	d, err = f.vote(r.ID, "bob", true)
	if err != nil || d.Grant != nil {
		t.Fatalf("one of two sre approvals: grant %v, err %v; want no grant", d.Grant, err)
	}
	_, err = f.vote(r.ID, "bob", true)
	wantKind(t, err, approval.ErrAlreadyVoted)
	d, err = f.vote(r.ID, "carol", true)
	if err != nil || d.Grant == nil {
		t.Fatalf("second distinct sre approval: grant %v, err %v; want a grant", d.Grant, err)
	}
}

func TestPendingExpires(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	f.clock.Advance(29 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.clock.Advance(2 * time.Minute)
	got, g, err := f.engine.WaitDecision(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.RequestExpired || g != nil {
		t.Fatalf("state %s grant %v after the TTL, want expired", got.State, g)
	}
	_, err = f.vote(r.ID, "bob", true)
	wantKind(t, err, approval.ErrNotPending)
}

func TestWindowCaps(t *testing.T) {
	cases := []struct {
		name string
		now  time.Time
		ask  time.Duration
		cap  time.Duration // approver's max
		want time.Duration
	}{
		{"asked", start, 90 * time.Minute, 0, 90 * time.Minute},
		{"default when zero", start, 0, 0, time.Hour},
		{"contract maximum", start, 10 * time.Hour, 0, 4 * time.Hour},
		{"approver shortens", start, 2 * time.Hour, 30 * time.Minute, 30 * time.Minute},
		{"approver cannot lengthen", start, time.Hour, 3 * time.Hour, time.Hour},
		{"contract end", time.Date(2027, 6, 30, 23, 0, 0, 0, time.UTC), 4 * time.Hour, 0, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.clock.Set(tc.now)
			ask := opsAsk()
			ask.Duration = tc.ask
			r := f.submit(t, ask)
			d, err := f.engine.Decide(context.Background(), approval.Vote{RequestID: r.ID, Approver: "bob", Approve: true, MaxDuration: tc.cap})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Grant.End.Sub(d.Grant.Start); got != tc.want {
				t.Errorf("window = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestExtensionsStopAtCap(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := d.Grant.ID
	end := d.Grant.End

	_, err = f.engine.Extend(ctx, id, "alice", time.Hour, "more")
	wantKind(t, err, approval.ErrSelfApproval)
	_, err = f.engine.Extend(ctx, id, "bob", 2*time.Hour, "too long")
	wantKind(t, err, approval.ErrExtensionCap)

	g, err := f.engine.Extend(ctx, id, "bob", time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}
	if !g.End.Equal(end.Add(time.Hour)) {
		t.Errorf("end after extension = %s, want %s", g.End, end.Add(time.Hour))
	}
	_, err = f.engine.Extend(ctx, id, "carol", time.Hour, "over total")
	wantKind(t, err, approval.ErrExtensionCap)
	if _, err = f.engine.Extend(ctx, id, "carol", 30*time.Minute, "last"); err != nil {
		t.Fatal(err)
	}
	_, err = f.engine.Extend(ctx, id, "carol", time.Minute, "third")
	wantKind(t, err, approval.ErrExtensionCap)
}

func TestOutsidePermittedHours(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)) // Saturday
	ask := approval.Ask{Requester: "mallory", Kind: approval.KindSSH, Target: "web-1", Principal: "root", Duration: time.Hour}
	_, err := f.engine.Submit(context.Background(), ask)
	wantKind(t, err, approval.ErrOutsideHours)
	// Monday 08:00 in Berlin is 07:00 UTC.
	berlin, err2 := time.LoadLocation("Europe/Berlin")
	if err2 != nil {
		t.Fatal(err2)
	}
	next := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC).In(berlin).Format(time.RFC1123)
	if !strings.Contains(err.Error(), next) {
		t.Errorf("message %q does not name the next permitted time %s", err, next)
	}
}

func TestWindowStopsAtHoursEnd(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)) // 17:00 in Berlin
	ask := approval.Ask{Requester: "mallory", Kind: approval.KindSSH, Target: "web-1", Principal: "root", Duration: 3 * time.Hour}
	r := f.submit(t, ask)
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Grant.End.Sub(d.Grant.Start); got != time.Hour {
		t.Errorf("window = %s, want 1h (until 18:00 Berlin)", got)
	}
}

func TestJoinPendingRequest(t *testing.T) {
	f := newFixture(t)
	first := f.submit(t, opsAsk())
	sub, err := f.engine.Submit(context.Background(), opsAsk())
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Joined || sub.Request.ID != first.ID {
		t.Errorf("second ask: joined %v id %d, want joined request %d", sub.Joined, sub.Request.ID, first.ID)
	}
}

func TestBreakGlass(t *testing.T) {
	f := newFixture(t)
	ask := opsAsk()
	ask.BreakGlass = true
	_, err := f.engine.Submit(context.Background(), ask)
	wantKind(t, err, approval.ErrNotEligible)

	ask.Requester = "oncall"
	ask.Duration = 3 * time.Hour
	sub, err := f.engine.Submit(context.Background(), ask)
	if err != nil {
		t.Fatal(err)
	}
	g := sub.Grant
	if g == nil || !g.BreakGlass || g.End.Sub(g.Start) != time.Hour {
		t.Fatalf("break-glass grant = %+v, want flagged with the 1h break-glass maximum", g)
	}
	if !g.ReviewDue.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("review due %s, want %s", g.ReviewDue, start.Add(24*time.Hour))
	}
	_, err = f.engine.Review(context.Background(), g.ID, "bob", "fine")
	wantKind(t, err, approval.ErrNotApprover)
	reviewed, err := f.engine.Review(context.Background(), g.ID, "erin", "fine")
	if err != nil || reviewed.ReviewedBy != "erin" {
		t.Fatalf("review = %+v, %v", reviewed, err)
	}
}

func TestRevokeAndEnd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.submit(t, opsAsk())
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.engine.Revoke(ctx, d.Grant.ID, "mallory", "nosy")
	wantKind(t, err, approval.ErrNotApprover)

	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	done := make(chan *store.Grant, 1)
	go func() {
		g, _ := f.engine.WaitGrant(wctx, d.Grant.ID, d.Grant.Version)
		done <- g
	}()
	if _, err := f.engine.Revoke(ctx, d.Grant.ID, "carol", "done"); err != nil {
		t.Fatal(err)
	}
	if g := <-done; g == nil || g.State != store.GrantRevoked {
		t.Fatalf("waiter saw %+v, want revoked", g)
	}

	// A second grant ends by itself when the fake clock passes its end.
	r2 := f.submit(t, opsAsk())
	d2, err := f.vote(r2.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2*time.Hour + time.Second)
	g, err := f.engine.WaitGrant(wctx, d2.Grant.ID, d2.Grant.Version)
	if err != nil || g.State != store.GrantEnded {
		t.Fatalf("after the window: %+v, %v; want ended", g, err)
	}
}

func TestWaiterWakesPromptly(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	woke := make(chan time.Time, 1)
	go func() {
		_, _, err := f.engine.WaitDecision(context.Background(), r.ID)
		if err == nil {
			woke <- time.Now()
		}
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter block first
	decided := time.Now()
	if _, err := f.vote(r.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-woke:
		lag := at.Sub(decided)
		t.Logf("waiter woke %s after the decision", lag)
		if lag > time.Second {
			t.Errorf("waiter woke %s after the decision, want well under 1s", lag)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter did not wake within 5s")
	}
}

func TestWaiterReleasedByCancel(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := f.engine.WaitDecision(ctx, r.ID)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled waiter did not return")
	}
}

func TestClaimEnforcesSessionCap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.submit(t, opsAsk())
	if _, err := f.vote(r.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	var opened []*store.Session
	for i := 0; i < 2; i++ {
		s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
		if _, err := f.engine.Claim(ctx, s); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		opened = append(opened, s)
	}
	_, err := f.engine.Claim(ctx, &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"})
	wantKind(t, err, approval.ErrSessionCap)

	opened[0].EndReason = "client"
	if err := f.engine.EndSession(ctx, opened[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Claim(ctx, &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}); err != nil {
		t.Errorf("claim after one session closed: %v", err)
	}
}

func TestAuditChainCoversLifecycle(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	if _, err := f.vote(r.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	var types []string
	err := f.store.Events(context.Background(), store.EventFilter{}, func(e *store.Event) error {
		types = append(types, e.Type)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{audit.RequestCreated, audit.RequestDecision, audit.RequestApproved, audit.GrantCreated}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("events = %v, want %v", types, want)
	}
	if _, err := audit.Verify(context.Background(), f.store); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestStartCatchesUpAfterRestart(t *testing.T) {
	cfg, err := configs.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(start)
	open := func() (*approval.Engine, store.Store, context.CancelFunc) {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		e, err := approval.New(approval.Options{Config: cfg, Store: st, Audit: audit.New(st, clk), Clock: clk,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return e, st, cancel
	}
	e, st, stop := open()
	sub, err := e.Submit(context.Background(), opsAsk())
	if err != nil {
		t.Fatal(err)
	}
	stop()
	st.Close()

	clk.Set(start.Add(time.Hour)) // past the 30m pending TTL while "down"
	e, st, stop = open()
	defer stop()
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, _, err := e.WaitDecision(ctx, sub.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != store.RequestExpired {
		t.Errorf("state after restart past the TTL = %s, want expired", r.State)
	}
	if _, err := audit.Verify(ctx, st); err != nil {
		t.Errorf("verify after restart: %v", err)
	}
}

func TestConcurrentClaimsRespectCap(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, opsAsk())
	if _, err := f.vote(r.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	const tries = 8
	errs := make(chan error, tries)
	for i := 0; i < tries; i++ {
		go func() {
			_, err := f.engine.Claim(context.Background(), &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"})
			errs <- err
		}()
	}
	ok := 0
	for i := 0; i < tries; i++ {
		if err := <-errs; err == nil {
			ok++
		} else if !errors.Is(err, approval.ErrSessionCap) {
			t.Errorf("claim: %v", err)
		}
	}
	if ok != 2 {
		t.Errorf("%d concurrent claims succeeded, want the cap of 2", ok)
	}
}

func TestBreakGlassOnlyRequester(t *testing.T) {
	const cfgText = `
identities:
  users:
    - {name: alice, groups: [eng]}
    - {name: pager, groups: [on-call]}
    - {name: bob, groups: [sre]}
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:22
      host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
      logins: [deploy]
contracts:
  - id: ops
    version: 1
    party: Ops
    kind: internal
    effective: 2026-01-01
    expires: 2027-06-30
    requesters: {groups: [eng]}
    scope: [{target: web-1, logins: [deploy]}]
    approval: {approvers: {groups: [sre]}}
    window: {max: 4h}
    break_glass:
      requesters: {groups: [on-call]}
      max_window: 1h
      review_within: 24h
      reviewers: {groups: [sre]}
`
	cfg, err := configs.Parse("bg.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(start)
	e, err := approval.New(approval.Options{Config: cfg, Store: st, Audit: audit.New(st, clk), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ask := approval.Ask{Requester: "pager", Kind: approval.KindSSH, Target: "web-1", Principal: "deploy"}
	_, err = e.Submit(context.Background(), ask)
	wantKind(t, err, approval.ErrNotEligible)

	ask.BreakGlass = true
	sub, err := e.Submit(context.Background(), ask)
	if err != nil {
		t.Fatalf("break-glass by a break-glass-only requester: %v", err)
	}
	if sub.Grant == nil || !sub.Grant.BreakGlass {
		t.Errorf("grant = %+v, want a break-glass grant", sub.Grant)
	}
}

func TestExtensionStopsAtHoursEnd(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)) // 16:00 in Berlin
	ask := approval.Ask{Requester: "mallory", Kind: approval.KindSSH, Target: "web-1", Principal: "root", Duration: time.Hour}
	r := f.submit(t, ask)
	d, err := f.vote(r.ID, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.engine.Extend(context.Background(), d.Grant.ID, "carol", 3*time.Hour, "late fix")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC) // 18:00 in Berlin
	if !g.End.Equal(want) {
		t.Errorf("end after extension = %s, want the hours end %s", g.End, want)
	}
}
