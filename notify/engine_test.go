package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
)

// engineConfig has one contract under which alice requests and bob approves,
// a signed JSON webhook for two events and a Slack webhook for one.
const engineConfig = `
public_url: https://jitgate.example.com
identities:
  users:
    - {name: alice, groups: [eng]}
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
    scope:
      - {target: web-1, logins: [deploy]}
    triggers: [incident]
    approval:
      approvers: {groups: [sre]}
      pending_ttl: 30m
    window: {default: 1h, max: 4h}
webhooks:
  - name: ops-hook
    url: %s
    secret_file: hook.secret
    events: [request.created, request.approved]
  - name: chat
    url: %s
    format: slack
    events: [request.created]
`

func TestEngineSubmitDecideNotifies(t *testing.T) {
	signed := newReceiver(t, nil)
	slack := newReceiver(t, nil)
	dir := t.TempDir()
	writeSecret(t, dir)
	cfgPath := filepath.Join(dir, "jitgate.yaml")
	cfg, err := configs.Parse(cfgPath, fmt.Appendf(nil, engineConfig, signed.srv.URL, slack.srv.URL+"/services/T0/B0/token"))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	st := openStore(t, filepath.Join(dir, "state.db"))
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	h := newHarness(t, st, nil, func(o *Options) {
		o.Config, o.Clock = cfg, clk
	})
	engine, err := approval.New(approval.Options{
		Config: cfg, Store: st, Audit: audit.New(st, clk), Clock: clk, Notifier: h.n,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h.run(t)

	sub, err := engine.Submit(ctx, approval.Ask{
		Requester: "alice", Kind: approval.KindSSH, Target: "web-1", Principal: "deploy",
		Duration: 2 * time.Hour, Trigger: "incident", Reason: "disk full",
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	reqID := sub.Request.ID
	wantURL := "https://jitgate.example.com/requests/" + strconv.FormatInt(reqID, 10)

	created := checkSigned(t, signed.next(t), clk.Now())
	if created.Event != "request.created" || created.Request == nil || created.Request.ID != reqID {
		t.Fatalf("first signed delivery = %s for request %+v, want request.created for request %d", created.Event, created.Request, reqID)
	}
	if created.URL != wantURL {
		t.Errorf("url = %q, want %q", created.URL, wantURL)
	}
	if created.Actor != "alice" || created.Request.Reason != "disk full" {
		t.Errorf("actor %q, reason %q; want alice and the reason she gave", created.Actor, created.Request.Reason)
	}

	chat := slack.next(t)
	if chat.header.Get(HeaderSignature) != "" {
		t.Errorf("Slack delivery without a secret carries %s", HeaderSignature)
	}
	var msg slackMessage
	if err := json.Unmarshal(chat.body, &msg); err != nil {
		t.Fatalf("Slack body is not JSON: %v", err)
	}
	if msg.Text != "alice requests SSH access as deploy on web-1 for 2h" {
		t.Errorf("Slack text = %q", msg.Text)
	}

	decided, err := engine.Decide(ctx, approval.Vote{RequestID: reqID, Approver: "bob", Approve: true, Comment: "go ahead"})
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	approved := checkSigned(t, signed.next(t), clk.Now())
	if approved.Event != "request.approved" {
		t.Fatalf("second signed delivery = %s, want request.approved", approved.Event)
	}
	if approved.Grant == nil || decided.Grant == nil || approved.Grant.ID != decided.Grant.ID {
		t.Errorf("approved grant = %+v, want grant %+v", approved.Grant, decided.Grant)
	}
	if approved.Request == nil || approved.Request.State != "approved" {
		t.Errorf("approved request = %+v, want state approved", approved.Request)
	}

	waitOutbox(t, st, "empty", emptyOutbox)
	h.stop()
	signed.assertNoMore(t)
	slack.assertNoMore(t)
}
