package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/web"
)

// liveConn is a fake front-door connection that passes the termination
// message on.
type liveConn struct {
	terminated chan string
}

func (c *liveConn) Warn(string) {}

func (c *liveConn) Terminate(_ session.Reason, msg string) { c.terminated <- msg }

func TestSessionsListShowsLiveSession(t *testing.T) {
	h := newHarness(t)
	granted := h.grant()
	conn := &liveConn{terminated: make(chan string, 1)}
	live, err := h.srv.Registry().Open(context.Background(), &store.Session{
		Kind: "postgres", Person: alice, Target: granted.Target, Principal: granted.Principal, ClientAddr: "127.0.0.1:50000",
	}, conn)
	if err != nil {
		t.Fatalf("opening a session: %v", err)
	}

	var list web.ListView[web.SessionView]
	h.call("GET", "/api/v1/sessions?state=open", bob, nil, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Fatalf("open sessions = %d, want 1", len(list.Items))
	}
	s := list.Items[0]
	if s.ID != live.ID() || !s.Live || s.GrantID != granted.Grant.ID || s.Person != alice {
		t.Errorf("session = %+v, want live session %d of alice under grant %d", s, live.ID(), granted.Grant.ID)
	}
	var carolsView web.ListView[web.SessionView]
	h.call("GET", "/api/v1/sessions", carol, nil, http.StatusOK, &carolsView)
	if len(carolsView.Items) != 0 {
		t.Errorf("carol sees %d sessions of alice, want 0", len(carolsView.Items))
	}

	h.call("POST", urlf("/api/v1/grants/%d/revoke", granted.Grant.ID), bob, nil, http.StatusOK, nil)
	msg := <-conn.terminated
	if !strings.Contains(msg, "revoked") {
		t.Errorf("termination message = %q, want it to say the grant was revoked", msg)
	}
	live.End("", "")
	<-live.Done()
	h.call("GET", "/api/v1/sessions?state=closed", bob, nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Live || list.Items[0].EndReason != "revoked" {
		t.Errorf("closed sessions = %+v, want one, not live, ended by revocation", list.Items)
	}
}
