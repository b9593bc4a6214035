package postgres

import (
	"strings"
	"time"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// settingPrefix starts the names of the front door's own settings.
const settingPrefix = "jitgate."

// connRequest is the client's request, from its StartupMessage.
type connRequest struct {
	user   string
	target string
	// database is the upstream database; empty means the target's default.
	database string
	// role is the granted role; empty until chosen.
	role       string
	reason     string
	ticket     string
	trigger    string
	contract   string
	duration   time.Duration
	breakGlass bool
	// forward holds the startup parameters passed upstream.
	forward map[string]string
}

// parseStartup reads the user, the target, the role and the front door
// settings from a StartupMessage. Errors are *clientError.
func parseStartup(s *wire.Startup) (*connRequest, error) {
	req := &connRequest{forward: map[string]string{}}
	settings := map[string]string{}
	for _, p := range s.Params {
		name := p.Name
		switch {
		case name == "user":
			req.user = p.Value
		case name == "database":
			req.target = p.Value
		case name == "replication":
			if err := checkReplication(p.Value); err != nil {
				return nil, err
			}
		case name == "options":
			if rest := extractSettings(p.Value, settings); rest != "" {
				req.forward["options"] = rest
			}
		case strings.HasPrefix(name, "_pq_."):
			// Reported in NegotiateProtocolVersion, not passed on.
		case strings.HasPrefix(strings.ToLower(name), settingPrefix):
			settings[strings.ToLower(name)] = p.Value
		default:
			req.forward[name] = p.Value
		}
	}
	if req.user == "" {
		return nil, reject(wire.CodeInvalidAuthorization, "no PostgreSQL user name specified in startup packet")
	}
	if req.target == "" {
		req.target = req.user // as PostgreSQL defaults the database to the user name
	}
	if err := req.splitDatabaseName(); err != nil {
		return nil, err
	}
	if err := req.applySettings(settings); err != nil {
		return nil, err
	}
	return req, nil
}

// checkReplication rejects replication connections, which the relay does
// not support.
func checkReplication(value string) error {
	switch strings.ToLower(value) {
	case "", "false", "off", "no", "0":
		return nil
	}
	return reject(wire.CodeInsufficientPrivilege,
		"jitgate: replication connections are not allowed through jitgate (replication=%s)", value).
		withHint("Connect without the replication parameter; jitgate relays ordinary sessions only.")
}

// splitDatabaseName splits TARGET[/DATABASE][@ROLE].
func (req *connRequest) splitDatabaseName() error {
	name := req.target
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		req.role = name[i+1:]
		name = name[:i]
		if req.role == "" {
			return reject(wire.CodeInvalidAuthorization, "jitgate: database name %q has an empty role after @", req.target).
				withHint("Write dbname=TARGET@ROLE, for example orders@readonly, or leave out @ROLE.")
		}
	}
	if i := strings.IndexByte(name, '/'); i >= 0 {
		req.database = name[i+1:]
		name = name[:i]
		if req.database == "" {
			return reject(wire.CodeInvalidAuthorization, "jitgate: database name %q has an empty database after /", req.target).
				withHint("Write dbname=TARGET/DATABASE, for example orders/reporting, or leave out /DATABASE.")
		}
	}
	req.target = name
	return nil
}

// applySettings interprets the jitgate.* settings. A role or database in
// a setting must agree with one in the database name.
func (req *connRequest) applySettings(settings map[string]string) error {
	for name, value := range settings {
		switch strings.TrimPrefix(name, settingPrefix) {
		case "role":
			if req.role != "" && req.role != value {
				return reject(wire.CodeInvalidAuthorization, "jitgate: role %q in the database name conflicts with jitgate.role=%s", req.role, value)
			}
			req.role = value
		case "database":
			if req.database != "" && req.database != value {
				return reject(wire.CodeInvalidAuthorization, "jitgate: database %q in the database name conflicts with jitgate.database=%s", req.database, value)
			}
			req.database = value
		case "reason":
			req.reason = value
		case "ticket":
			req.ticket = value
		case "trigger":
			req.trigger = value
		case "contract":
			req.contract = value
		case "duration":
			d, err := configs.ParseDuration(value)
			if err != nil || d <= 0 {
				return reject(wire.CodeInvalidParameterValue, "jitgate: jitgate.duration=%s is not a positive duration", value).
					withHint("Write a duration such as 30m or 2h.")
			}
			req.duration = d.Std()
		case "break_glass":
			on, ok := parseBool(value)
			if !ok {
				return reject(wire.CodeInvalidParameterValue, "jitgate: jitgate.break_glass=%s is not on or off", value)
			}
			req.breakGlass = on
		default:
			return reject(wire.CodeInvalidParameterValue, "jitgate: unrecognized setting %q", name).
				withHint("jitgate knows jitgate.role, jitgate.database, jitgate.reason, jitgate.ticket, jitgate.trigger, jitgate.duration, jitgate.contract and jitgate.break_glass.")
		}
	}
	return nil
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, true
	case "off", "false", "no", "0":
		return false, true
	}
	return false, false
}

// extractSettings moves the jitgate.* settings of an options string into
// settings and returns the rest, re-escaped, for the upstream server.
// Options are split as PostgreSQL's pg_split_opts does: at whitespace,
// with a backslash taking the next character literally. A setting is
// "-c name=value", "-cname=value" or "--name=value".
func extractSettings(options string, settings map[string]string) string {
	args := splitOptions(options)
	var rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		var assignment string
		switch {
		case arg == "-c" && i+1 < len(args):
			assignment = args[i+1]
		case strings.HasPrefix(arg, "-c") && len(arg) > 2:
			assignment = arg[2:]
		case strings.HasPrefix(arg, "--"):
			assignment = arg[2:]
		}
		name, value, found := strings.Cut(assignment, "=")
		if !found || !strings.HasPrefix(strings.ToLower(name), settingPrefix) {
			rest = append(rest, escapeOption(arg))
			continue
		}
		settings[strings.ToLower(name)] = value
		if arg == "-c" {
			i++
		}
	}
	return strings.Join(rest, " ")
}

func splitOptions(s string) []string {
	var args []string
	var cur strings.Builder
	inArg := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inArg = true
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

// escapeOption escapes whitespace and backslashes so splitOptions, and
// PostgreSQL, read arg back as one argument.
func escapeOption(arg string) string {
	var b strings.Builder
	for i := 0; i < len(arg); i++ {
		switch arg[i] {
		case '\\', ' ', '\t', '\n', '\r', '\f', '\v':
			b.WriteByte('\\')
		}
		b.WriteByte(arg[i])
	}
	return b.String()
}
