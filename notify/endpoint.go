package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/jitgate/jitgate/configs"
)

// Payload formats an endpoint can take.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// Defaults for the per-endpoint settings that the config leaves at zero.
const (
	DefaultTimeout     = 5 * time.Second // per attempt
	DefaultMaxAttempts = 8
)

// endpoint is one configured webhook with its secret loaded.
type endpoint struct {
	name   string
	url    string // a credential for Slack: never logged
	format string
	secret []byte // empty for an unsigned Slack endpoint; never logged
	// events is nil when the endpoint takes every event.
	events      []string
	timeout     time.Duration
	maxAttempts int
}

func (e *endpoint) wants(event string) bool {
	return e.events == nil || slices.Contains(e.events, event)
}

// loadEndpoints checks the webhooks of the config and reads their secret
// files. Errors name the webhook by index and name, never by URL.
func loadEndpoints(hooks []configs.Webhook) ([]*endpoint, error) {
	var out []*endpoint
	var errs []error
	seen := map[string]bool{}
	for i := range hooks {
		ep, err := loadEndpoint(&hooks[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: webhooks[%d] (%s): %w", i, hooks[i].Name, err))
			continue
		}
		if seen[ep.name] {
			errs = append(errs, fmt.Errorf("notify: webhooks[%d]: name %q is used twice; give each webhook its own name, because queued deliveries refer to it", i, ep.name))
			continue
		}
		seen[ep.name] = true
		out = append(out, ep)
	}
	return out, errors.Join(errs...)
}

func loadEndpoint(w *configs.Webhook) (*endpoint, error) {
	if w.Name == "" {
		return nil, errors.New("name is missing; set name to a short label such as chat-ops")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not quoted: a Slack webhook URL is a credential.
		return nil, errors.New("url is not an absolute http or https URL")
	}
	ep := &endpoint{
		name:        w.Name,
		url:         w.URL,
		format:      w.Format,
		events:      w.Events,
		timeout:     w.Timeout.Std(),
		maxAttempts: w.MaxAttempts,
	}
	if ep.format == "" {
		ep.format = FormatJSON
	}
	if ep.format != FormatJSON && ep.format != FormatSlack {
		return nil, fmt.Errorf("format %q is unknown; use %s or %s", ep.format, FormatJSON, FormatSlack)
	}
	if ep.timeout <= 0 {
		ep.timeout = DefaultTimeout
	}
	if ep.maxAttempts <= 0 {
		ep.maxAttempts = DefaultMaxAttempts
	}
	if w.SecretFile != "" {
		if ep.secret, err = readSecret(w.SecretFile); err != nil {
			return nil, err
		}
	}
	if ep.format == FormatJSON && len(ep.secret) == 0 {
		return nil, errors.New("secret_file is missing, and format json signs every body; add a file that contains the shared secret")
	}
	return ep, nil
}

// readSecret reads a secret file and drops the line ending that editors
// and `echo` add, so the key matches what the receiver reads from its own
// copy.
func readSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret_file: %w", err)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	if len(data) == 0 {
		return nil, fmt.Errorf("secret_file %s is empty; write the shared secret into it", path)
	}
	return data, nil
}
