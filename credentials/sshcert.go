package credentials

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// ClockSkew is subtracted from the current time for a certificate's
// valid-after, so a target whose clock runs behind still accepts it.
const ClockSkew = time.Minute

// Certificate extension names, from OpenSSH's PROTOCOL.certkeys.
const (
	extPTY             = "permit-pty"
	extPortForwarding  = "permit-port-forwarding"
	extAgentForwarding = "permit-agent-forwarding"
	extX11Forwarding   = "permit-X11-forwarding"
	extUserRC          = "permit-user-rc"
)

// Permissions lists the features a certificate permits on the target. The
// zero value permits none of them: no PTY, no forwarding, no ~/.ssh/rc.
type Permissions struct {
	PTY             bool
	PortForwarding  bool
	AgentForwarding bool
	X11Forwarding   bool
	// UserRC lets sshd run the login's ~/.ssh/rc at login.
	UserRC bool
}

// CertRequest describes the certificate for one upstream connection.
type CertRequest struct {
	// Login is the OS account on the target, the certificate's principal.
	Login string
	// Person is the user name of the person who connects. It must not
	// contain white space, because it is one field of the key id.
	Person    string
	RequestID int64
	GrantID   int64
	SessionID int64
	// ValidBefore is the end of the grant's window. The certificate
	// expires at this second or earlier, never later.
	ValidBefore time.Time
	// Now is the current time from the caller's clock.
	Now    time.Time
	Permit Permissions
}

// Minted is a certificate with its fresh private key.
type Minted struct {
	// Signer signs with the private key and presents the certificate, so
	// ssh.PublicKeys(Signer) is the client's authentication method.
	Signer ssh.Signer
	Cert   *ssh.Certificate
}

// Mint creates a fresh ed25519 key and a user certificate for it, signed by
// the CA. The certificate is valid from ClockSkew before req.Now until
// req.ValidBefore, for the principal req.Login only, with a random serial,
// a key id of the form "jitgate person=P request=R grant=G session=S", and
// the extensions req.Permit allows.
func (ca *SSHCA) Mint(req CertRequest) (*Minted, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("credentials: generate connection key: %w", err)
	}
	keySigner, err := ssh.NewSignerFromKey(private)
	if err != nil {
		return nil, fmt.Errorf("credentials: wrap connection key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}

	cert := &ssh.Certificate{
		Key:             keySigner.PublicKey(),
		Serial:          serial,
		CertType:        ssh.UserCert,
		KeyId:           req.keyID(),
		ValidPrincipals: []string{req.Login},
		ValidAfter:      uint64(req.Now.Add(-ClockSkew).Unix()),
		ValidBefore:     uint64(req.ValidBefore.Unix()), // Unix() rounds down
		Permissions:     ssh.Permissions{Extensions: req.Permit.extensions()},
	}
	if err := cert.SignCert(rand.Reader, ca.signer); err != nil {
		return nil, fmt.Errorf("credentials: sign certificate for login %s: %w", req.Login, err)
	}
	certSigner, err := ssh.NewCertSigner(cert, keySigner)
	if err != nil {
		return nil, fmt.Errorf("credentials: pair certificate with its key: %w", err)
	}
	return &Minted{Signer: certSigner, Cert: cert}, nil
}

func (req CertRequest) validate() error {
	switch {
	case req.Login == "":
		return errors.New("credentials: certificate request has no login")
	case strings.ContainsFunc(req.Login, notPrintableOrSpace):
		return fmt.Errorf("credentials: login %q contains white space or control characters, which no OS account name has", req.Login)
	case req.Person == "":
		return errors.New("credentials: certificate request has no person")
	case strings.ContainsFunc(req.Person, notPrintableOrSpace):
		return fmt.Errorf("credentials: person %q contains white space or control characters, which would make the certificate key id ambiguous", req.Person)
	case req.Now.IsZero():
		return errors.New("credentials: certificate request has no Now: pass the current time from the clock")
	case req.Now.Add(-ClockSkew).Unix() < 0:
		return fmt.Errorf("credentials: certificate request time %v is before 1970", req.Now)
	case !req.ValidBefore.After(req.Now):
		return fmt.Errorf("credentials: window end %v is not after the current time %v: the grant has ended", req.ValidBefore, req.Now)
	}
	return nil
}

func notPrintableOrSpace(r rune) bool {
	return unicode.IsSpace(r) || !unicode.IsPrint(r)
}

func (req CertRequest) keyID() string {
	return fmt.Sprintf("jitgate person=%s request=%d grant=%d session=%d", req.Person, req.RequestID, req.GrantID, req.SessionID)
}

func (p Permissions) extensions() map[string]string {
	extensions := make(map[string]string)
	permitted := []struct {
		on   bool
		name string
	}{
		{p.PTY, extPTY},
		{p.PortForwarding, extPortForwarding},
		{p.AgentForwarding, extAgentForwarding},
		{p.X11Forwarding, extX11Forwarding},
		{p.UserRC, extUserRC},
	}
	for _, ext := range permitted {
		if ext.on {
			extensions[ext.name] = "" // these extensions carry no data
		}
	}
	return extensions
}

func randomSerial() (uint64, error) {
	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return 0, fmt.Errorf("credentials: generate certificate serial: %w", err)
	}
	return binary.BigEndian.Uint64(buf[:]), nil
}
