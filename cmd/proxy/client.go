package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jitgate/jitgate/web"
)

// callTimeout bounds one API call other than a long poll.
const callTimeout = 30 * time.Second

// client calls the jitgate HTTP API.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// apiError is an error response of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

// client returns an API client from the global flags and environment.
func (g *globals) client() (*client, error) {
	token := g.token
	if token == "" {
		token = g.getenv("JITGATE_TOKEN")
	}
	if token == "" {
		return nil, errors.New("no API token; set JITGATE_TOKEN or pass --token (jitgate token new makes one)")
	}
	base, err := url.Parse(strings.TrimRight(g.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("server URL %q is not an http or https URL such as %s; check --server or JITGATE_SERVER", g.server, defaultServer)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if base.Scheme == "https" {
		tlsConfig, err := g.tlsConfig()
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = tlsConfig
	}
	return &client{base: base, token: token, http: &http.Client{Transport: transport}}, nil
}

func (g *globals) tlsConfig() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: g.insecureSkipTLSVerify}
	if g.caFile == "" {
		return conf, nil
	}
	pemData, err := os.ReadFile(g.caFile)
	if err != nil {
		return nil, fmt.Errorf("reading --ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("--ca-file %s has no PEM certificate", g.caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// get calls GET path with query and decodes the JSON response into out.
func (c *client) get(ctx context.Context, path string, query url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.do(ctx, http.MethodGet, path, query, nil, out)
}

// post calls POST path with body as JSON and decodes the response into out.
func (c *client) post(ctx context.Context, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.do(ctx, http.MethodPost, path, nil, body, out)
}

// do sends one call. Responses of 400 and above become an *apiError.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the response to %s %s: %w", method, path, err)
	}
	return nil
}

// stream sends GET path and copies a successful response to w.
func (c *client) stream(ctx context.Context, path string, query url.Values, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("the server stopped sending %s before the end: %w", path, err)
	}
	return nil
}

func (c *client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	u := *c.base
	u.Path += "/api/v1" + path
	u.RawQuery = query.Encode()
	var payload io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding the call to %s: %w", path, err)
		}
		payload = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), payload)
	if err != nil {
		return nil, fmt.Errorf("building the call to %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the jitgate server at %s: %w; check --server or JITGATE_SERVER", c.base.Redacted(), unwrapURLError(err))
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}

// readAPIError decodes the JSON error body, or describes a response that has
// none (such as one from a proxy in front of jitgate).
func readAPIError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body web.ErrorBody
	if err := json.Unmarshal(data, &body); err == nil && body.Error.Code != "" {
		return &apiError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return &apiError{Status: resp.StatusCode, Code: "http",
		Message: fmt.Sprintf("the server responded %s without a jitgate error body: %q", resp.Status, text)}
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL that the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func requestPath(id string) string { return "/requests/" + url.PathEscape(id) }

func grantPath(id string) string { return "/grants/" + url.PathEscape(id) }
