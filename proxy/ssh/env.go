package sshproxy

import "strings"

// allowedEnv lists the client environment variables passed to the
// target: locale, time zone, color hints, and GIT_PROTOCOL, which git
// sends to select protocol v2 over SSH. Everything else is rejected, so a
// client cannot set LD_PRELOAD or similar on a target that accepts it.
// The target still applies its own AcceptEnv.
var allowedEnv = map[string]bool{
	"LANG":         true,
	"LANGUAGE":     true,
	"TZ":           true,
	"COLORTERM":    true,
	"NO_COLOR":     true,
	"GIT_PROTOCOL": true,
}

// envAllowed reports whether the variable name may go to the target.
func envAllowed(name string) bool {
	return allowedEnv[name] || strings.HasPrefix(name, "LC_")
}
