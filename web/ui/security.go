package ui

import (
	"fmt"
	"net/http"
	"net/url"
)

// contentSecurityPolicy allows scripts, styles and every other resource
// only from this site, so an injected inline script or style does not run.
// frame-ancestors 'none' keeps the pages out of frames, so no other site
// can overlay the approve button. form-action 'self' keeps forms from
// posting elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// securityHeaders sets the headers that every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		// Older browsers ignore frame-ancestors but honour this.
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection rejects state-changing browser requests sent from
// another site (net/http.CrossOriginProtection, which reads the
// Sec-Fetch-Site and Origin headers), and renders the rejection as a page.
// The origin of public_url is trusted as well, for a reverse proxy that
// passes a different Host header on.
func (u *ui) crossOriginProtection() (*http.CrossOriginProtection, error) {
	p := http.NewCrossOriginProtection()
	if origin, ok := originOf(u.cfg.PublicURL); ok {
		if err := p.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("ui: trusting the origin %s of public_url: %w", origin, err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.requestLogger(r).Warn("cross-site request rejected", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		u.renderError(w, r, http.StatusForbidden,
			"This request came from another site, so it was rejected. Open the page on this site and send the form from there.")
	}))
	return p, nil
}

// originOf returns the scheme://host[:port] of a URL.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}
