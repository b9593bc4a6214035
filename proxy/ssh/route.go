package sshproxy

import (
	"fmt"
	"strings"
)

// route is the destination of a connection: login on target.
type route struct {
	login  string
	target string
}

func (r route) String() string { return r.login + "@" + r.target }

// parseRoute splits the SSH user "LOGIN@TARGET" at its last "@", the way
// OpenSSH splits "user@host" for the outer hop, so "deploy@web-1" is login
// deploy on target web-1. The error is the message for the person.
func parseRoute(user string) (route, error) {
	i := strings.LastIndexByte(user, '@')
	if i < 0 {
		return route{}, fmt.Errorf("the SSH user %q names no target; connect as LOGIN@TARGET, for example ssh -o User=deploy@web-1", user)
	}
	r := route{login: user[:i], target: user[i+1:]}
	switch {
	case r.login == "":
		return route{}, fmt.Errorf("the SSH user %q names no login before the @; connect as LOGIN@TARGET, for example deploy@web-1", user)
	case r.target == "":
		return route{}, fmt.Errorf("the SSH user %q names no target after the @; connect as LOGIN@TARGET, for example deploy@web-1", user)
	case strings.ContainsFunc(user, isControlOrSpace):
		return route{}, fmt.Errorf("the SSH user %q contains white space or control characters", user)
	}
	return r, nil
}

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }
