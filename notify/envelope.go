package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// envelope is the content of an outbox item's Payload: the body exactly
// as it will be sent, with the delivery id, the format it was rendered in
// and the ids that log lines name. Storing the format keeps an item
// deliverable as rendered even if the endpoint's format changes while it
// waits.
type envelope struct {
	Delivery  string          `json:"delivery"`
	Format    string          `json:"format"`
	RequestID int64           `json:"request_id,omitempty"`
	GrantID   int64           `json:"grant_id,omitempty"`
	Body      json.RawMessage `json:"body"`
}

func encodeEnvelope(e envelope) ([]byte, error) {
	data, err := marshalJSON(e)
	if err != nil {
		return nil, fmt.Errorf("notify: encoding outbox payload: %w", err)
	}
	return data, nil
}

// marshalJSON is json.Marshal without HTML escaping, so "<", ">" and "&"
// stay readable in bodies (Slack text carries "&lt;" entities) and the
// body inside an envelope keeps its exact bytes.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeEnvelope(data []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("notify: decoding outbox payload: %w", err)
	}
	if e.Delivery == "" || len(e.Body) == 0 {
		return e, fmt.Errorf("notify: outbox payload has no delivery id or no body")
	}
	return e, nil
}
