package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jitgate/jitgate/web"
)

// apiTimeout bounds one call of the jitgate HTTP API.
const apiTimeout = 30 * time.Second

// apiClient calls jitgate's JSON API on loopback.
type apiClient struct {
	base string // such as http://127.0.0.1:8080
	http *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: apiTimeout}}
}

// request opens an access request as the person with token.
func (c *apiClient) request(ctx context.Context, token string, body web.CreateRequestBody) (*web.RequestView, error) {
	var v web.RequestView
	if err := c.call(ctx, token, "/requests", body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// approve records an approval of request id by the person with token.
func (c *apiClient) approve(ctx context.Context, token string, id int64) (*web.RequestView, error) {
	var v web.RequestView
	path := "/requests/" + strconv.FormatInt(id, 10) + "/approve"
	if err := c.call(ctx, token, path, web.DecideBody{Comment: "benchmark"}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// revoke ends grant id.
func (c *apiClient) revoke(ctx context.Context, token string, id int64) error {
	var v web.GrantView
	path := "/grants/" + strconv.FormatInt(id, 10) + "/revoke"
	return c.call(ctx, token, path, web.ReasonBody{Reason: "benchmark round done"}, &v)
}

// grantNow opens a request as the requester and approves it as the
// approver, and returns the active grant.
func (c *apiClient) grantNow(ctx context.Context, requester, approver string, body web.CreateRequestBody) (*web.GrantView, error) {
	req, err := c.request(ctx, requester, body)
	if err != nil {
		return nil, err
	}
	decided, err := c.approve(ctx, approver, req.ID)
	if err != nil {
		return nil, err
	}
	if decided.Grant == nil {
		return nil, fmt.Errorf("request %d is %s after the approval, with no grant; check the contract's quorum", req.ID, decided.State)
	}
	return decided.Grant, nil
}

// call sends POST /api/v1+path with body as JSON and decodes the response.
func (c *apiClient) call(ctx context.Context, token, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode the body of %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1"+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("build POST %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read the response to POST %s: %w", path, err)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(payload))
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("decode the response to POST %s: %w", path, err)
	}
	return nil
}
