package sshproxy

import (
	"fmt"
	"strings"
	"time"

	"github.com/jitgate/jitgate/configs"
)

// Environment variables that carry request details. The client sends them
// with `ssh -o SetEnv=...` or SendEnv; they are never sent to the target.
const (
	envPrefix     = "JITGATE_"
	envReason     = "JITGATE_REASON"
	envTicket     = "JITGATE_TICKET"
	envTrigger    = "JITGATE_TRIGGER"
	envDuration   = "JITGATE_DURATION"
	envContract   = "JITGATE_CONTRACT"
	envBreakGlass = "JITGATE_BREAK_GLASS"
)

// requestDetails are the fields of a new access request besides the route.
type requestDetails struct {
	reason     string
	ticket     string
	trigger    string
	contract   string
	duration   time.Duration
	breakGlass bool
	// invalid lists values that did not parse, as messages for the person.
	invalid []string
}

// set stores one JITGATE_ variable. It returns false for a name that is not
// one of them.
func (d *requestDetails) set(name, value string) bool {
	switch name {
	case envReason:
		d.reason = strings.TrimSpace(value)
	case envTicket:
		d.ticket = strings.TrimSpace(value)
	case envTrigger:
		d.trigger = strings.TrimSpace(value)
	case envContract:
		d.contract = strings.TrimSpace(value)
	case envDuration:
		parsed, err := configs.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			d.invalid = append(d.invalid, fmt.Sprintf("%s=%q is not a duration: %v", name, value, err))
			return true
		}
		d.duration = parsed.Std()
	case envBreakGlass:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "yes", "true", "1":
			d.breakGlass = true
		case "no", "false", "0", "":
			d.breakGlass = false
		default:
			d.invalid = append(d.invalid, fmt.Sprintf("%s=%q is not yes or no", name, value))
		}
	default:
		return false
	}
	return true
}

// detailsHint shows the person how to send request details with OpenSSH.
const detailsHint = `jitgate: send request details with ssh -o SetEnv="JITGATE_REASON='why you need access' JITGATE_TICKET=..." (also JITGATE_TRIGGER, JITGATE_DURATION, JITGATE_CONTRACT)`
