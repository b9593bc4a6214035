package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
)

const (
	// sessionCookie names the cookie that carries the sign-in id.
	sessionCookie = "jitgate_session"
	// sessionLifetime is how long a sign-in lasts. It is not renewed by
	// use, so an approver signs in again after a working day.
	sessionLifetime = 8 * time.Hour
	// maxSignIns bounds the sign-ins kept in memory. When it is reached,
	// expired ones are dropped first and then the oldest.
	maxSignIns = 10000
	// formTokenField is the hidden form field that carries the sign-in's
	// form token.
	formTokenField = "csrf_token"
)

// signIn is one signed-in browser.
type signIn struct {
	id        string
	person    string
	formToken string
	created   time.Time
	expires   time.Time
}

// checkFormToken compares a submitted form token with the sign-in's, in
// constant time.
func (s *signIn) checkFormToken(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.formToken)) == 1
}

// sessions keeps sign-ins in memory. A restart signs everyone out.
type sessions struct {
	clock clock.Clock

	// mu guards byID.
	mu   sync.Mutex
	byID map[string]*signIn
}

func newSessions(c clock.Clock) *sessions {
	return &sessions{clock: c, byID: map[string]*signIn{}}
}

// create starts a sign-in for person.
func (s *sessions) create(person string) *signIn {
	now := s.clock.Now()
	in := &signIn{
		id: randomToken(), person: person, formToken: randomToken(),
		created: now, expires: now.Add(sessionLifetime),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSignIns {
		s.evictLocked(now)
	}
	s.byID[in.id] = in
	return in
}

// lookup returns the live sign-in with this id.
func (s *sessions) lookup(id string) (*signIn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	if !s.clock.Now().Before(in.expires) {
		delete(s.byID, id)
		return nil, false
	}
	return in, true
}

// remove ends a sign-in.
func (s *sessions) remove(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// evictLocked drops expired sign-ins and, if none had expired, the oldest.
func (s *sessions) evictLocked(now time.Time) {
	var oldest *signIn
	for id, in := range s.byID {
		if !now.Before(in.expires) {
			delete(s.byID, id)
			continue
		}
		if oldest == nil || in.created.Before(oldest.created) {
			oldest = in
		}
	}
	if len(s.byID) >= maxSignIns && oldest != nil {
		delete(s.byID, oldest.id)
	}
}

// currentSignIn returns the request's sign-in and its person, or nils.
func (u *ui) currentSignIn(r *http.Request) (*signIn, *identity.Person) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	in, ok := u.sessions.lookup(c.Value)
	if !ok {
		return nil, nil
	}
	person, ok := u.opts.Identity.Person(in.person)
	if !ok {
		return nil, nil
	}
	return in, person
}

// setSessionCookie sends the sign-in cookie. It is HttpOnly so scripts
// cannot read it, SameSite=Lax so other sites' forms do not carry it, and
// Secure whenever the browser reached us over TLS.
func (u *ui) setSessionCookie(w http.ResponseWriter, r *http.Request, in *signIn) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: in.id, Path: "/",
		MaxAge: int(sessionLifetime / time.Second), HttpOnly: true,
		Secure: u.isTLS(r), SameSite: http.SameSiteLaxMode,
	})
}

// clearSessionCookie sends an expired sign-in cookie, which the browser
// drops.
func (u *ui) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: u.isTLS(r), SameSite: http.SameSiteLaxMode,
	})
}

// randomToken returns 32 random bytes in URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24 and later)
	return base64.RawURLEncoding.EncodeToString(b)
}
