package configs

import (
	"strconv"
)

// WebhookEvents are the event names a webhook may subscribe to. A webhook
// that lists no events receives all of them.
var WebhookEvents = []string{
	"request.created",    // a request waits for approval
	"request.approved",   // the quorum was met and a grant exists
	"request.denied",     // an approver denied the request
	"request.expired",    // the request lapsed after approval.pending_ttl
	"grant.revoked",      // someone revoked the grant before its end
	"grant.ended",        // the window ended
	"session.started",    // a connection started under a grant
	"session.terminated", // jitgate closed a connection: window end, revocation or idle timeout
}

func (v *validator) validateWebhooks() {
	names := v.newNameIndex("give each webhook a different name")
	for i := range v.cfg.Webhooks {
		w := &v.cfg.Webhooks[i]
		path := indexPath("webhooks", i)
		v.checkName(path+".name", w.Name, "chat-ops")
		names.add(path+".name", w.Name, strconv.Quote(w.Name))

		if v.required(path+".url", w.URL, "add the endpoint, such as url: https://hooks.example.com/jitgate") {
			v.checkURL(path+".url", w.URL, "https://hooks.example.com/jitgate")
		}
		v.oneOf(path+".format", w.Format, "json", "slack")
		if w.Format == "json" && w.SecretFile == "" {
			v.fail(path+".secret_file", "missing, and format json signs every body with HMAC-SHA256; add the file that contains the shared secret, such as secret_file: webhook.secret")
		}

		if w.Events != nil && len(w.Events) == 0 {
			v.fail(path+".events", "the list is empty, so the webhook would receive nothing; list events such as [request.created] or omit events to receive all")
		}
		events := v.newNameIndex("remove the repeated event")
		for j, event := range w.Events {
			eventPath := indexPath(path+".events", j)
			v.oneOf(eventPath, event, WebhookEvents...)
			events.add(eventPath, event, strconv.Quote(event))
		}
		if w.MaxAttempts < 0 {
			v.fail(path+".max_attempts", "%d is negative; use 1 or more, or omit it for %d", w.MaxAttempts, defaultWebhookMaxAttempts)
		}
	}
}
