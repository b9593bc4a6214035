package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/configs"
)

func TestNewRejectsBadWebhooks(t *testing.T) {
	dir := t.TempDir()
	secret := writeSecret(t, dir)
	empty := filepath.Join(dir, "empty.secret")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const url = "https://hooks.example.com/services/url-token-XYZ"

	cases := []struct {
		name  string
		hooks []configs.Webhook
		want  string
	}{
		{"json without secret", []configs.Webhook{{Name: "a", URL: url}}, "webhooks[0] (a): secret_file is missing"},
		{"missing secret file", []configs.Webhook{{Name: "a", URL: url, SecretFile: filepath.Join(dir, "nope")}}, "reading secret_file"},
		{"empty secret file", []configs.Webhook{{Name: "a", URL: url, SecretFile: empty}}, "is empty"},
		{"unknown format", []configs.Webhook{{Name: "a", URL: url, Format: "teams", SecretFile: secret}}, `format "teams" is unknown`},
		{"relative url", []configs.Webhook{{Name: "a", URL: "/hook", SecretFile: secret}}, "url is not an absolute http or https URL"},
		{"ftp url", []configs.Webhook{{Name: "a", URL: "ftp://hooks.example.com/x", SecretFile: secret}}, "url is not an absolute"},
		{"missing name", []configs.Webhook{{URL: url, SecretFile: secret}}, "name is missing"},
		{"repeated name", []configs.Webhook{
			{Name: "a", URL: url, SecretFile: secret},
			{Name: "a", URL: url, Format: FormatSlack},
		}, `webhooks[1]: name "a" is used twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Config: &configs.Config{Webhooks: tc.hooks}, Store: openStore(t, filepath.Join(t.TempDir(), "s.db"))})
			if err == nil {
				t.Fatalf("New returned no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "url-token-XYZ") {
				t.Errorf("error %q contains the webhook URL", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	secret := writeSecret(t, t.TempDir())
	n, err := New(Options{
		Config: &configs.Config{PublicURL: "https://jitgate.example.com/", Webhooks: []configs.Webhook{
			{Name: "signed", URL: "https://hooks.example.com/a", SecretFile: secret},
			{Name: "chat", URL: "https://hooks.example.com/b", Format: FormatSlack, Events: []string{"request.created"}},
		}},
		Store: openStore(t, filepath.Join(t.TempDir(), "s.db")),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	signed, chat := n.byName["signed"], n.byName["chat"]
	if signed.format != FormatJSON {
		t.Errorf("format = %q, want %q by default", signed.format, FormatJSON)
	}
	if string(signed.secret) != testSecret {
		t.Errorf("secret = %q, want the file's content without its newline", signed.secret)
	}
	if signed.timeout != 5*time.Second || signed.maxAttempts != DefaultMaxAttempts {
		t.Errorf("timeout %s, max attempts %d; want the defaults", signed.timeout, signed.maxAttempts)
	}

	if !signed.wants("session.terminated") {
		t.Error("a webhook without events does not take session.terminated, want every event")
	}
	if chat.wants("request.approved") || !chat.wants("request.created") {
		t.Error("a webhook with events [request.created] takes the wrong events")
	}
	if len(chat.secret) != 0 {
		t.Errorf("Slack webhook without secret_file has secret %q", chat.secret)
	}

	if n.publicURL != "https://jitgate.example.com" {
		t.Errorf("public URL = %q, want it without the trailing slash", n.publicURL)
	}
	if n.backoff != DefaultBackoff || n.scanLimit != DefaultScanLimit {
		t.Errorf("backoff %+v, scan limit %d; want the defaults", n.backoff, n.scanLimit)
	}
}
