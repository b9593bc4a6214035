package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/server/servertest"
	"github.com/jitgate/jitgate/notify"
)

func TestServeDeliversWebhooks(t *testing.T) {
	secret := []byte("webhook-test-secret")
	got := make(chan string, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := notify.Verify(secret, r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now(), 0)
		if err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev struct{ Event string }
		_ = json.Unmarshal(body, &ev)
		got <- ev.Event
	}))
	defer recv.Close()

	dir := t.TempDir()
	cfg := servertest.Load(t, dir, servertest.Options{})
	secretFile := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Webhooks = []configs.Webhook{{
		Name: "test", URL: recv.URL, Format: "json", SecretFile: secretFile,
		Events: []string{"request.created"}, Timeout: configs.Duration(5 * time.Second), MaxAttempts: 3,
	}}
	r := start(t, cfg)

	_, err := r.srv.Engine().Submit(context.Background(), approval.Ask{
		Requester: servertest.Alice, Kind: approval.KindSSH, Target: servertest.SSHTarget,
		Principal: "deploy", Reason: "webhook test", Ticket: "INC-1", Trigger: "incident",
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev != "request.created" {
			t.Errorf("event = %q, want request.created", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook within 10s of the request")
	}
}
