package ui

import "net/http"

// Mount returns one handler for the whole web listener: the JSON API
// under /api/v1/ and the health endpoints /healthz and /readyz go to api,
// and every other path goes to pages.
func Mount(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/", pages)
	return mux
}
