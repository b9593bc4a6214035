// Package ui serves the approvers' web pages: server-rendered
// html/template pages with one stylesheet and one small script, both
// embedded with go:embed, so nothing is fetched from elsewhere at run time.
//
// Routes (all pages but /login need a signed-in person):
//
//	GET  /                        redirect to /requests
//	GET  /login                   sign-in form; ?next=/requests/7 returns there afterwards
//	POST /login                   sign in with a user name and password (bcrypt hash in the config)
//	POST /logout                  sign out
//	GET  /requests                pending requests the viewer may decide, other pending
//	                              requests they may see, and their own recent requests;
//	                              ?fragment=1 returns only the lists, for live updates
//	GET  /requests/{id}           one request: who, what, why, the contract's terms in
//	                              plain words, earlier decisions, and the decision form
//	                              or the reason it is missing
//	POST /requests/{id}/approve   vote yes: comment, max_duration (a shorter window)
//	POST /requests/{id}/deny      vote no: comment
//	POST /requests/{id}/cancel    the requester withdraws a pending request: reason
//	GET  /requests/{id}/audit     the audit events of the request and its grant
//	GET  /grants                  active grants with their live sessions
//	POST /grants/{id}/revoke      end a grant now: reason
//	GET  /events                  Server-Sent Events: "changed" after every engine change
//	GET  /static/{name}           the embedded stylesheet, script and icon
//
// Pages decide nothing. The approval engine applies every rule: a page
// calls Engine.CanDecide to choose whether to show the decision buttons
// and, when it may not, shows the engine's reason. A link from a notification only
// opens the page; a decision always needs a signed-in approver's POST.
//
// Sign-in sessions live in memory for sessionLifetime (8 hours), so a
// restart of the server signs everyone out. The session cookie is
// HttpOnly, SameSite=Lax, and Secure when the request came over TLS or
// public_url starts with https.
//
// Cross-site requests: every POST passes net/http's CrossOriginProtection,
// which rejects a browser request whose Sec-Fetch-Site or Origin header
// names another site (the origin of public_url is trusted too, for a
// reverse proxy that rewrites Host). Every POST of a signed-in person must
// also carry the session's form token, so a request without the Fetch
// Metadata and Origin headers (an old browser) is still rejected.
//
// Every response carries these headers: Content-Security-Policy
// "default-src 'self'; script-src 'self'; style-src 'self';
// frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
// (pages have no inline script or style), Referrer-Policy no-referrer,
// X-Content-Type-Options nosniff and X-Frame-Options DENY. Pages with
// personal data are sent with Cache-Control no-store.
package ui
