package ui

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// keepAliveInterval is how often the event stream sends a comment line
// when nothing changes, so proxies and browsers keep the connection open.
const keepAliveInterval = 25 * time.Second

// reconnectDelay is the retry field of the stream (in milliseconds on the
// wire): how long the browser waits before it reconnects a dropped stream.
const reconnectDelay = 3 * time.Second

// events handles GET /events, a Server-Sent Events stream (HTML Living
// Standard, chapter "Server-sent events",
// https://html.spec.whatwg.org/multipage/server-sent-events.html). It
// sends an event named "changed" after each change the approval engine
// broadcasts, and "signedout" when the sign-in expires, then ends. The
// browser re-fetches the lists on "changed", so it never polls.
func (u *ui) events(v *visit) error {
	rc := http.NewResponseController(v.w)
	h := v.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tells nginx not to buffer the stream
	v.w.WriteHeader(http.StatusOK)

	expired := make(chan struct{})
	timer := u.clock.AfterFunc(v.signIn.expires.Sub(u.clock.Now()), func() { close(expired) })
	defer timer.Stop()
	keepAlive := time.NewTicker(keepAliveInterval)
	defer keepAlive.Stop()

	// Take the change channel before the first flush, because the browser
	// re-reads the lists once the stream is open, and a change between that
	// read and this subscription would otherwise go unannounced.
	changed := u.opts.Engine.Changes()
	if err := send(v.w, rc, fmt.Sprintf("retry: %d\n\n", reconnectDelay.Milliseconds())); err != nil {
		return nil
	}
	ctx := v.r.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-expired:
			_ = send(v.w, rc, "event: signedout\ndata: \n\n")
			return nil
		case <-keepAlive.C:
			if err := send(v.w, rc, ": keep-alive\n\n"); err != nil {
				return nil
			}
		case <-changed:
			// Subscribe again before announcing, for the same reason.
			changed = u.opts.Engine.Changes()
			if err := send(v.w, rc, "event: changed\ndata: \n\n"); err != nil {
				v.log.Debug("event stream closed", "err", err)
				return nil
			}
		}
	}
}

// send writes one chunk of the stream and flushes it to the browser.
func send(w io.Writer, rc *http.ResponseController, chunk string) error {
	if _, err := io.WriteString(w, chunk); err != nil {
		return err
	}
	return rc.Flush()
}
