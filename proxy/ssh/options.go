package sshproxy

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// Engine is the part of the approval engine the front door uses;
// *approval.Engine implements it.
type Engine interface {
	Match(ctx context.Context, person, kind, target, principal string) (*store.Grant, error)
	Submit(ctx context.Context, ask approval.Ask) (*approval.Submitted, error)
	WaitDecision(ctx context.Context, id int64) (*store.Request, *store.Grant, error)
	RecordEvent(ctx context.Context, entry audit.Entry) error
	Store() store.Reader
}

// Sessions opens live sessions under a grant; *session.Registry
// implements it.
type Sessions interface {
	Open(ctx context.Context, s *store.Session, conn session.Conn) (*session.Live, error)
}

// Identity finds the person behind a public key or a certificate
// principal; *identity.Static implements it.
type Identity interface {
	BySSHKey(key ssh.PublicKey) (*identity.Person, bool)
	Person(name string) (*identity.Person, bool)
}

// Minter signs upstream user certificates; *credentials.SSHCA implements it.
type Minter interface {
	Mint(req credentials.CertRequest) (*credentials.Minted, error)
}

// RecordingStore creates recording files; *recordings.FS implements it.
type RecordingStore interface {
	Create(kind string, sessionID int64, channel int, ext string) (*recordings.File, error)
}

// Options configures a Server. Config, Engine, Registry, Identity, CA and
// Recordings are required.
type Options struct {
	Config     *configs.Config
	Engine     Engine
	Registry   Sessions
	Identity   Identity
	CA         Minter
	Recordings RecordingStore
	// Clock is the time source for certificates, hold deadlines and
	// recordings. Default: the wall clock.
	Clock clock.Clock
	// Logger receives connection events. Default: slog.Default().
	Logger *slog.Logger
	// StateDir holds the generated host keys when Config.SSH.HostKeyFile
	// is empty.
	StateDir string
	// Permissions returns what a contract lets a session do on the target.
	// Default: the contract's ssh terms (a terminal unless pty is false,
	// forwarding only where the contract turns it on).
	Permissions func(c *configs.Contract) credentials.Permissions
	// LoginGraceTime bounds the handshake and authentication of a new
	// connection. Default 1m.
	LoginGraceTime time.Duration
	// DialTimeout bounds the connection to the target. Default 20s.
	DialTimeout time.Duration
	// CloseWait is how long a terminated connection waits for the
	// client's own close after the last lines before it sends a FIN. Two
	// round trips of the client's connection are added. Default 20ms.
	CloseWait time.Duration
	// CloseGrace bounds the whole wait for the client's close after the
	// last lines, after which the socket closes. Default 2s.
	CloseGrace time.Duration
}

// withDefaults checks the required fields and fills the optional ones.
func (o Options) withDefaults() (Options, error) {
	var missing []error
	for _, req := range []struct {
		name string
		set  bool
	}{
		{"Config", o.Config != nil}, {"Engine", o.Engine != nil}, {"Registry", o.Registry != nil},
		{"Identity", o.Identity != nil}, {"CA", o.CA != nil}, {"Recordings", o.Recordings != nil},
	} {
		if !req.set {
			missing = append(missing, errors.New("sshproxy: Options."+req.name+" is required"))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return o, err
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Permissions == nil {
		o.Permissions = defaultPermissions
	}
	if o.LoginGraceTime <= 0 {
		o.LoginGraceTime = defaultLoginGraceTime
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultDialTimeout
	}
	if o.CloseWait <= 0 {
		o.CloseWait = defaultCloseWait
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = defaultCloseGrace
	}
	return o, nil
}

// defaultPermissions reads the contract's ssh terms.
func defaultPermissions(c *configs.Contract) credentials.Permissions {
	if c == nil {
		return credentials.Permissions{PTY: true}
	}
	return credentials.Permissions{
		PTY:             c.SSH.AllowsPTY(),
		PortForwarding:  c.SSH.PortForwarding,
		AgentForwarding: c.SSH.AgentForwarding,
		X11Forwarding:   c.SSH.X11Forwarding,
	}
}
