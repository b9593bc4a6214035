package sshproxy

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/clock"
)

// Keys of ssh.Permissions.Extensions that carry who authenticated from the
// authentication callback to the connection handler.
const (
	permPerson      = "jitgate-person"
	permMethod      = "jitgate-method"
	permFingerprint = "jitgate-fingerprint"
)

// Authentication methods recorded for a connection.
const (
	methodKey         = "publickey"
	methodCertificate = "login-certificate"
)

// sourceAddressOption is the certificate critical option that x/crypto
// enforces itself (OpenSSH PROTOCOL.certkeys).
const sourceAddressOption = "source-address"

var (
	errUnknownKey         = errors.New("no person has registered this public key")
	errUnknownCA          = errors.New("the certificate is not signed by a configured login CA")
	errNotUserCertificate = errors.New("the certificate is a host certificate, not a user certificate")
)

// authenticator checks client public keys and login certificates.
type authenticator struct {
	identity Identity
	loginCAs []ssh.PublicKey
	clock    clock.Clock
	log      *slog.Logger
}

// parseLoginCAs parses the authorized_keys lines of the login CAs.
func parseLoginCAs(lines []string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	for i, line := range lines {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("sshproxy: ssh.login_ca_keys[%d] is not an authorized_keys line: %w", i, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// publicKey is the ssh.ServerConfig.PublicKeyCallback. x/crypto calls it
// for key queries too, before the client proves it holds the key, so it
// only looks keys up and changes nothing.
func (a *authenticator) publicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if cert, ok := key.(*ssh.Certificate); ok {
		return a.certificate(cert)
	}
	person, ok := a.identity.BySSHKey(key)
	if !ok {
		return nil, errUnknownKey
	}
	return &ssh.Permissions{Extensions: map[string]string{
		permPerson:      person.Name,
		permMethod:      methodKey,
		permFingerprint: ssh.FingerprintSHA256(key),
	}}, nil
}

// certificate accepts a user certificate signed by a login CA whose
// principals name exactly one known person.
func (a *authenticator) certificate(cert *ssh.Certificate) (*ssh.Permissions, error) {
	if cert.CertType != ssh.UserCert {
		return nil, errNotUserCertificate
	}
	if !a.isLoginCA(cert.SignatureKey) {
		return nil, errUnknownCA
	}
	person := ""
	for _, principal := range cert.ValidPrincipals {
		p, ok := a.identity.Person(principal)
		if !ok {
			continue
		}
		if person != "" && person != p.Name {
			return nil, fmt.Errorf("the certificate names two people, %s and %s; a login certificate must name one", person, p.Name)
		}
		person = p.Name
	}
	if person == "" {
		return nil, fmt.Errorf("no principal of the certificate (%q) is a known person", cert.ValidPrincipals)
	}
	checker := ssh.CertChecker{Clock: a.clock.Now, SupportedCriticalOptions: []string{sourceAddressOption}}
	if err := checker.CheckCert(person, cert); err != nil {
		return nil, err
	}
	return &ssh.Permissions{
		// x/crypto enforces source-address from the returned permissions.
		CriticalOptions: maps.Clone(cert.CriticalOptions),
		Extensions: map[string]string{
			permPerson:      person,
			permMethod:      methodCertificate,
			permFingerprint: ssh.FingerprintSHA256(cert.Key),
		},
	}, nil
}

func (a *authenticator) isLoginCA(key ssh.PublicKey) bool {
	for _, ca := range a.loginCAs {
		if bytes.Equal(ca.Marshal(), key.Marshal()) {
			return true
		}
	}
	return false
}

// logAttempt is the ssh.ServerConfig.AuthLogCallback. Failures are logged
// at debug level, because every OpenSSH client first tries the "none"
// method and then offers each key in its agent.
func (a *authenticator) logAttempt(meta ssh.ConnMetadata, method string, err error) {
	if err == nil {
		return
	}
	a.log.Debug("authentication attempt failed", "client", meta.RemoteAddr().String(), "user", meta.User(), "method", method, "err", err)
}
