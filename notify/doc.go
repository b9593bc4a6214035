// Package notify sends jitgate's webhooks: signed JSON for any receiver,
// and Slack incoming-webhook messages with a link to the request page.
//
// # Outbox
//
// Notify runs inside the store transaction that made the change (it
// implements approval.Notifier). It renders the payload for every endpoint
// subscribed to the event and stores it as a store.OutboxItem in that same
// transaction, so an event is queued if and only if the change committed,
// and a restart loses nothing. Run delivers the queued items in the
// background.
//
// # Delivery
//
// Delivery is at least once: a receiver can see a delivery twice, for
// example when jitgate stops after the receiver answered but before the
// item was deleted, so receivers deduplicate on the delivery id. Each
// endpoint gets one delivery at a time, oldest item first, and an item that
// failed holds back the newer items of its endpoint until it is delivered
// or given up, so a receiver gets events in the order they happened. Other
// endpoints are not held back. A delivery succeeds on any 2xx status. Any
// other status, a network error or the per-attempt timeout counts as a
// failed attempt, and the next attempt waits for an exponential backoff
// (Backoff). Redirects are not followed, because a 3xx answer usually means
// a wrong URL, and following it would send the signed body somewhere the
// operator did not configure.
//
// An item that failed MaxAttempts times is given up: it is deleted from the
// outbox, counted as dead in Stats, and logged at error level with the
// endpoint name, event, delivery id, request and grant ids and the last
// error. The event itself stays in the audit log, so only the notification
// is lost. The store has no state for dead items, and keeping them would
// make every scan of the outbox read them again.
//
// Items of a webhook that is not in the config are kept for a day, because
// processes sharing a store may run different configs during a rollout,
// and are then given up the same way.
//
// The dispatcher claims an item by moving its NextAt past the attempt's
// timeout inside the transaction that selected it, so two processes sharing
// a store never send the same item at once. If the process dies during an
// attempt, the item becomes due again once that claim runs out.
//
// # Signatures
//
// Every request to an endpoint with a secret carries X-Jitgate-Timestamp
// (Unix seconds at the time of the attempt) and X-Jitgate-Signature,
// "sha256=" followed by the hex HMAC-SHA256 (RFC 2104, FIPS 198-1) of the
// timestamp, a dot and the body, keyed with the shared secret. Verify checks
// both and rejects timestamps more than five minutes away from the
// receiver's clock. Secrets and endpoint URLs never appear in logs or in
// stored errors, because a Slack webhook URL is itself a credential.
//
// # Slack
//
// The Slack format follows Slack's incoming-webhook and Block Kit
// documentation (api.slack.com/messaging/webhooks,
// api.slack.com/reference/block-kit/blocks): a fallback "text", a section
// with the summary, a context line with the contract, and an actions block
// with a link button. The button only opens the request page, because a
// decision needs a signed-in approver. User text is escaped as Slack's
// formatting reference asks (&, < and > as HTML entities) and cut to fit
// the block limits.
package notify
