package sshmsg

import (
	"errors"

	"golang.org/x/crypto/ssh"
)

// Session channel request types from RFC 4254 section 6, RFC 4335 and the
// OpenSSH PROTOCOL file.
const (
	RequestPty          = "pty-req"
	RequestX11          = "x11-req"
	RequestEnv          = "env"
	RequestShell        = "shell"
	RequestExec         = "exec"
	RequestSubsystem    = "subsystem"
	RequestWindowChange = "window-change"
	RequestXonXoff      = "xon-xoff"
	RequestSignal       = "signal"
	RequestExitStatus   = "exit-status"
	RequestExitSignal   = "exit-signal"
	RequestBreak        = "break"
	RequestAgentForward = "auth-agent-req@openssh.com"
	RequestEndOfWrite   = "eow@openssh.com"
	RequestKeepAlive    = "keepalive@openssh.com"
)

// Channel types that carry sessions and the channels a target opens back
// to the client for X11 and agent forwarding.
const (
	ChannelTypeSession = "session"
	ChannelTypeX11     = "x11"
	ChannelTypeAgent   = "auth-agent@openssh.com"
)

// PtyRequest is a pty-req payload (RFC 4254 section 6.2). Modes holds the
// encoded terminal modes of section 8, passed on unchanged.
type PtyRequest struct {
	Term         string
	Columns      uint32
	Rows         uint32
	WidthPixels  uint32
	HeightPixels uint32
	Modes        string
}

// ParsePtyRequest decodes and bounds a pty-req payload.
func ParsePtyRequest(payload []byte) (PtyRequest, error) {
	return parse(RequestPty, payload, func(r *PtyRequest) error {
		return errors.Join(checkLen("TERM", r.Term, MaxTermLen), checkLen("terminal modes", r.Modes, MaxModesLen))
	})
}

// Marshal encodes the request for the wire.
func (r PtyRequest) Marshal() []byte { return ssh.Marshal(&r) }

// WindowChange is a window-change payload (RFC 4254 section 6.7). Any
// size is accepted, including 0x0, because the target decides what a size
// means.
type WindowChange struct {
	Columns      uint32
	Rows         uint32
	WidthPixels  uint32
	HeightPixels uint32
}

// ParseWindowChange decodes a window-change payload.
func ParseWindowChange(payload []byte) (WindowChange, error) {
	return parse[WindowChange](RequestWindowChange, payload, nil)
}

// Marshal encodes the request for the wire.
func (w WindowChange) Marshal() []byte { return ssh.Marshal(&w) }

// Env is an env payload (RFC 4254 section 6.4).
type Env struct {
	Name  string
	Value string
}

// ParseEnv decodes and bounds an env payload.
func ParseEnv(payload []byte) (Env, error) {
	return parse(RequestEnv, payload, func(e *Env) error {
		if e.Name == "" {
			return errors.New("the variable name is empty")
		}
		return errors.Join(checkLen("variable name", e.Name, MaxEnvNameLen), checkLen("variable value", e.Value, MaxEnvValueLen))
	})
}

// Marshal encodes the request for the wire.
func (e Env) Marshal() []byte { return ssh.Marshal(&e) }

// Exec is an exec payload (RFC 4254 section 6.5). The command is bounded
// only by the packet size.
type Exec struct {
	Command string
}

// ParseExec decodes an exec payload.
func ParseExec(payload []byte) (Exec, error) {
	return parse[Exec](RequestExec, payload, nil)
}

// Subsystem is a subsystem payload (RFC 4254 section 6.5).
type Subsystem struct {
	Name string
}

// ParseSubsystem decodes and bounds a subsystem payload.
func ParseSubsystem(payload []byte) (Subsystem, error) {
	return parse(RequestSubsystem, payload, func(s *Subsystem) error {
		return checkLen("subsystem name", s.Name, MaxNameLen)
	})
}

// Signal is a signal payload (RFC 4254 section 6.9): a signal name without
// the "SIG" prefix.
type Signal struct {
	Name string
}

// ParseSignal decodes and bounds a signal payload.
func ParseSignal(payload []byte) (Signal, error) {
	return parse(RequestSignal, payload, func(s *Signal) error {
		return checkLen("signal name", s.Name, MaxNameLen)
	})
}

// Break is a break payload (RFC 4335 section 3): the break length in
// milliseconds.
type Break struct {
	Milliseconds uint32
}

// ParseBreak decodes a break payload.
func ParseBreak(payload []byte) (Break, error) {
	return parse[Break](RequestBreak, payload, nil)
}

// ExitStatus is an exit-status payload (RFC 4254 section 6.10).
type ExitStatus struct {
	Status uint32
}

// ParseExitStatus decodes an exit-status payload.
func ParseExitStatus(payload []byte) (ExitStatus, error) {
	return parse[ExitStatus](RequestExitStatus, payload, nil)
}

// Marshal encodes the request for the wire.
func (s ExitStatus) Marshal() []byte { return ssh.Marshal(&s) }

// ExitSignal is an exit-signal payload (RFC 4254 section 6.10).
type ExitSignal struct {
	Signal     string
	CoreDumped bool
	Message    string
	Language   string
}

// ParseExitSignal decodes and bounds an exit-signal payload.
func ParseExitSignal(payload []byte) (ExitSignal, error) {
	return parse(RequestExitSignal, payload, func(s *ExitSignal) error {
		return checkLen("signal name", s.Signal, MaxNameLen)
	})
}

// X11Request is an x11-req payload (RFC 4254 section 6.3.1).
type X11Request struct {
	SingleConnection bool
	AuthProtocol     string
	AuthCookie       string
	Screen           uint32
}

// ParseX11Request decodes and bounds an x11-req payload.
func ParseX11Request(payload []byte) (X11Request, error) {
	return parse(RequestX11, payload, func(r *X11Request) error {
		return errors.Join(checkLen("authentication protocol", r.AuthProtocol, MaxX11AuthLen),
			checkLen("authentication cookie", r.AuthCookie, MaxX11AuthLen))
	})
}
