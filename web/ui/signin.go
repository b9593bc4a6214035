package ui

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/jitgate/jitgate/identity"
)

// loginData fills the sign-in form.
type loginData struct {
	Next string
	Name string
}

// loginForm handles GET /login. A person who is already signed in goes
// straight on.
func (u *ui) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if in, _ := u.currentSignIn(r); in != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "login", layout{Title: "Sign in", Body: loginData{Next: next}})
}

// login handles POST /login: it checks the password against the bcrypt
// hash in the config and starts a sign-in.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	log := u.requestLogger(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, http.StatusBadRequest, fmt.Sprintf("The sign-in form could not be read (%v).", err))
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	next := localPath(r.PostFormValue("next"))
	data := loginData{Next: next, Name: name}
	addr := clientAddress(r)

	if until, blocked := u.limiter.blockedUntil(addr); blocked {
		log.Warn("sign-in rejected: too many failures", "name", name, "remote", addr)
		u.render(w, r, http.StatusTooManyRequests, "login", layout{Title: "Sign in", Body: data,
			Error: fmt.Sprintf("Too many failed sign-ins from your address. Try again after %s.", formatClock(until))})
		return
	}
	person, ok := u.checkPassword(name, r.PostFormValue("password"))
	if !ok {
		u.limiter.fail(addr)
		log.Warn("sign-in failed", "name", name, "remote", addr)
		u.render(w, r, http.StatusUnauthorized, "login", layout{Title: "Sign in", Body: data,
			Error: "Invalid user name or password."})
		return
	}
	in := u.sessions.create(person.Name)
	u.setSessionCookie(w, r, in)
	log.Info("signed in", "person", person.Name, "remote", addr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// checkPassword returns the person when name and password match. An empty
// name or password never matches.
func (u *ui) checkPassword(name, password string) (*identity.Person, bool) {
	if name == "" || password == "" {
		return nil, false
	}
	return u.opts.Identity.CheckPassword(name, password)
}

// logout handles POST /logout.
func (u *ui) logout(v *visit) error {
	u.sessions.remove(v.signIn.id)
	u.clearSessionCookie(v.w, v.r)
	v.log.Info("signed out")
	return v.redirect("/login")
}

// clientAddress is the IP of the peer, without the port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
