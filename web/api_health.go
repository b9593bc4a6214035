package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jitgate/jitgate/store"
)

// readyTimeout bounds the store read behind /readyz, so a stuck store makes
// the probe fail instead of hang.
const readyTimeout = 2 * time.Second

// HealthView is the body of /healthz and /readyz.
type HealthView struct {
	Status string `json:"status"` // ok or unavailable
}

// healthz returns 200 while the process serves HTTP at all.
func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, HealthView{Status: "ok"})
}

// readyz returns 200 when the store responds to a read, and 503 otherwise.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	_, err := a.opts.Store.LastEvent(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		requestLogger(r).Warn("readiness check failed: the store did not respond", "err", err)
		writeError(w, r, fail(http.StatusServiceUnavailable, codeUnavailable, "the store is not reachable; the server log has the cause"))
		return
	}
	writeJSON(w, http.StatusOK, HealthView{Status: "ok"})
}
