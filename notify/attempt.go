package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Response bytes read per attempt: the start of the body goes into the
// error of a failed attempt, and the rest up to drainLimit is read so the
// connection can be reused.
const (
	errorBodyLimit = 200
	drainLimit     = 64 << 10
)

// userAgent identifies jitgate to receivers.
const userAgent = "jitgate-webhook/1"

// StatusError reports a response status other than 2xx from the receiver.
type StatusError struct {
	Code int
	Body string // the start of the response body, printable characters only
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return "receiver answered HTTP " + strconv.Itoa(e.Code)
	}
	return fmt.Sprintf("receiver answered HTTP %d: %s", e.Code, e.Body)
}

// send makes one attempt to deliver env to ep. It signs the body when ep
// has a secret, with the current time as the timestamp, so a retry hours
// later still passes the receiver's age check. Errors never contain the
// URL, which for Slack is a credential.
func (n *Notifier) send(ctx context.Context, ep *endpoint, event string, env envelope) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(env.Body))
	if err != nil {
		return errors.New("building the HTTP request failed; check the webhook url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, env.Delivery)
	if len(ep.secret) > 0 {
		ts := n.clock.Now().Unix()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, Sign(ep.secret, ts, env.Body))
	}

	resp, err := n.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s without a response; raise the webhook timeout if the receiver is slow: %w",
				ep.timeout, withoutURL(err))
		}
		return withoutURL(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	return &StatusError{Code: resp.StatusCode, Body: printable(head)}
}

// withoutURL drops the *url.Error wrapper that net/http puts around
// transport errors, because its message quotes the whole URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printable keeps a response snippet safe for one log line.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.TrimSpace(s)
}
