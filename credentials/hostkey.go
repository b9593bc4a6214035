package credentials

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jitgate/jitgate/configs"
)

// HostKeyError is the error of a host key check that rejected the key the
// target presented. It wraps ErrHostKeyMismatch.
type HostKeyError struct {
	Target  string
	Address string
	// Presented describes the key the target sent: its SHA-256
	// fingerprint and type, and the signing CA for a certificate.
	Presented string
	// Expected describes each key or CA the configuration trusts for this
	// target.
	Expected []string
	// Cause holds errors other than a plain mismatch, such as a revoked
	// key or an expired host certificate.
	Cause error
}

func (e *HostKeyError) Error() string {
	expected := "a trusted key"
	if len(e.Expected) > 0 {
		expected = strings.Join(e.Expected, " or ")
	}
	msg := fmt.Sprintf("credentials: host key mismatch for SSH target %s (%s): presented %s, expected %s",
		e.Target, e.Address, e.Presented, expected)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg + ". If the target's host key changed on purpose, update the target's host_keys, known_hosts_file or host_ca"
}

func (e *HostKeyError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrHostKeyMismatch}
	}
	return []error{ErrHostKeyMismatch, e.Cause}
}

// hostKeySource is one way the configuration trusts host keys. check
// returns nil when it accepts key, *sourceMismatch when it does not, or
// another error when it cannot decide.
type hostKeySource interface {
	check(hostname string, remote net.Addr, key ssh.PublicKey) error
	// algorithms returns the host key algorithms the source can accept,
	// or nil when it cannot tell.
	algorithms() []string
}

// sourceMismatch lists what a source expected instead of the presented key.
type sourceMismatch struct{ expected []string }

func (m *sourceMismatch) Error() string { return "host key not trusted" }

// HostKeyCallback returns the host key check for an SSH target and the
// host key algorithms to offer, which are restricted to the types the
// target's configuration pins. Set both in ssh.ClientConfig. A nil
// algorithm list means the x/crypto default, returned when a known_hosts
// file lists no plain key for the target's address.
//
// The target's HostKeys (authorized_keys lines), KnownHostsFile and HostCA
// (an authorized_keys line of the host CA) are each a source of trust. A
// key passes when any configured source accepts it. The error of a
// rejected key is a *HostKeyError naming the target and the fingerprints
// of the presented and the expected keys. The known_hosts file is read
// once, by HostKeyCallback, so later edits need a new callback.
func HostKeyCallback(t configs.SSHTarget) (ssh.HostKeyCallback, []string, error) {
	sources, err := hostKeySources(t)
	if err != nil {
		return nil, nil, err
	}

	var algorithms []string
	for _, source := range sources {
		sourceAlgorithms := source.algorithms()
		if sourceAlgorithms == nil {
			algorithms = nil
			break
		}
		for _, algorithm := range sourceAlgorithms {
			if !slices.Contains(algorithms, algorithm) {
				algorithms = append(algorithms, algorithm)
			}
		}
	}

	callback := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		return checkHostKey(t, sources, hostname, remote, key)
	}
	return callback, algorithms, nil
}

func hostKeySources(t configs.SSHTarget) ([]hostKeySource, error) {
	var sources []hostKeySource
	if len(t.HostKeys) > 0 {
		pinned, err := newPinnedKeys(t)
		if err != nil {
			return nil, err
		}
		sources = append(sources, pinned)
	}
	if t.KnownHostsFile != "" {
		known, err := newKnownHosts(t)
		if err != nil {
			return nil, err
		}
		sources = append(sources, known)
	}
	if t.HostCA != "" {
		ca, err := newHostCA(t)
		if err != nil {
			return nil, err
		}
		sources = append(sources, ca)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("credentials: SSH target %s has no host key to check: set host_keys, known_hosts_file or host_ca", t.Name)
	}
	return sources, nil
}

func checkHostKey(t configs.SSHTarget, sources []hostKeySource, hostname string, remote net.Addr, key ssh.PublicKey) error {
	rejected := &HostKeyError{Target: t.Name, Address: t.Address, Presented: describePresentedKey(key)}
	var causes []error
	for _, source := range sources {
		err := source.check(hostname, remote, key)
		if err == nil {
			return nil
		}
		var mismatch *sourceMismatch
		if errors.As(err, &mismatch) {
			rejected.Expected = append(rejected.Expected, mismatch.expected...)
			continue
		}
		causes = append(causes, err)
	}
	rejected.Cause = errors.Join(causes...)
	return rejected
}

func describeKey(key ssh.PublicKey) string {
	return ssh.FingerprintSHA256(key) + " (" + key.Type() + ")"
}

func describePresentedKey(key ssh.PublicKey) string {
	cert, ok := key.(*ssh.Certificate)
	if !ok {
		return describeKey(key)
	}
	return "certificate for " + describeKey(cert.Key) + " signed by CA " + describeKey(cert.SignatureKey)
}

// algorithmsForKeyType returns the host key algorithms that verify a key
// of keyType. RSA keys get only the SHA-2 algorithms, never SHA-1 ssh-rsa.
func algorithmsForKeyType(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{keyType}
}

// pinnedKeys trusts the keys listed in the target's host_keys.
type pinnedKeys struct {
	keys []ssh.PublicKey
}

func newPinnedKeys(t configs.SSHTarget) (*pinnedKeys, error) {
	pinned := &pinnedKeys{}
	for i, line := range t.HostKeys {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("credentials: SSH target %s host_keys[%d] is not an authorized_keys line such as `ssh-ed25519 AAAA...`: %w", t.Name, i, err)
		}
		if _, isCert := key.(*ssh.Certificate); isCert {
			return nil, fmt.Errorf("credentials: SSH target %s host_keys[%d] is a certificate: pin the plain host key, or set host_ca to the CA", t.Name, i)
		}
		pinned.keys = append(pinned.keys, key)
	}
	return pinned, nil
}

func (p *pinnedKeys) check(_ string, _ net.Addr, key ssh.PublicKey) error {
	presented := key.Marshal()
	for _, pinned := range p.keys {
		if bytes.Equal(pinned.Marshal(), presented) {
			return nil
		}
	}
	mismatch := &sourceMismatch{}
	for _, pinned := range p.keys {
		mismatch.expected = append(mismatch.expected, describeKey(pinned))
	}
	return mismatch
}

func (p *pinnedKeys) algorithms() []string {
	var algorithms []string
	for _, key := range p.keys {
		algorithms = append(algorithms, algorithmsForKeyType(key.Type())...)
	}
	return algorithms
}

// knownHosts trusts the entries of an OpenSSH known_hosts file, including
// hashed host names, @cert-authority and @revoked lines.
type knownHosts struct {
	file     string
	address  string
	callback ssh.HostKeyCallback
	// plainKeys are the keys the file lists for the target's address.
	plainKeys []ssh.PublicKey
}

func newKnownHosts(t configs.SSHTarget) (*knownHosts, error) {
	callback, err := knownhosts.New(t.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("credentials: SSH target %s known_hosts_file %s: %w", t.Name, t.KnownHostsFile, err)
	}
	known := &knownHosts{file: t.KnownHostsFile, address: t.Address, callback: callback}
	known.plainKeys, err = known.keysFor(t.Address)
	if err != nil {
		return nil, fmt.Errorf("credentials: SSH target %s known_hosts_file %s: %w", t.Name, t.KnownHostsFile, err)
	}
	return known, nil
}

// keysFor returns the plain keys the file lists for address. The
// knownhosts package has no lookup, so this checks a fresh random key that
// can match no entry and reads the entries from the mismatch error.
func (k *knownHosts) keysFor(address string) ([]ssh.PublicKey, error) {
	public, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	probe, err := ssh.NewPublicKey(public)
	if err != nil {
		return nil, err
	}
	err = k.callback(address, &net.TCPAddr{}, probe)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil, fmt.Errorf("look up %s: %w", address, err)
	}
	var keys []ssh.PublicKey
	for _, known := range keyErr.Want {
		keys = append(keys, known.Key)
	}
	return keys, nil
}

func (k *knownHosts) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := k.callback(hostname, remote, key)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return err // nil, revoked, or a certificate error
	}
	mismatch := &sourceMismatch{}
	for _, known := range keyErr.Want {
		mismatch.expected = append(mismatch.expected, fmt.Sprintf("%s from %s:%d", describeKey(known.Key), known.Filename, known.Line))
	}
	if len(keyErr.Want) == 0 {
		mismatch.expected = append(mismatch.expected, fmt.Sprintf("an entry for %s in %s, which has none", hostname, k.file))
	}
	return mismatch
}

func (k *knownHosts) algorithms() []string {
	if len(k.plainKeys) == 0 {
		return nil // the file may still trust the host through @cert-authority
	}
	var algorithms []string
	for _, key := range k.plainKeys {
		algorithms = append(algorithms, algorithmsForKeyType(key.Type())...)
	}
	return algorithms
}

// hostCA trusts host certificates signed by the target's host CA.
type hostCA struct {
	ca      ssh.PublicKey
	checker *ssh.CertChecker
}

func newHostCA(t configs.SSHTarget) (*hostCA, error) {
	ca, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostCA))
	if err != nil {
		return nil, fmt.Errorf("credentials: SSH target %s host_ca is not an authorized_keys line such as `ssh-ed25519 AAAA...`: %w", t.Name, err)
	}
	source := &hostCA{ca: ca}
	source.checker = &ssh.CertChecker{
		IsHostAuthority: func(authority ssh.PublicKey, _ string) bool {
			return bytes.Equal(authority.Marshal(), ca.Marshal())
		},
	}
	return source, nil
}

func (h *hostCA) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	cert, isCert := key.(*ssh.Certificate)
	if !isCert || !bytes.Equal(cert.SignatureKey.Marshal(), h.ca.Marshal()) {
		return &sourceMismatch{expected: []string{"a host certificate signed by CA " + describeKey(h.ca)}}
	}
	// CheckHostKey also checks the certificate type, validity period and
	// that the host part of hostname is a principal.
	if err := h.checker.CheckHostKey(hostname, remote, key); err != nil {
		return fmt.Errorf("host certificate signed by the trusted CA is invalid: %w", err)
	}
	return nil
}

func (h *hostCA) algorithms() []string {
	// A host certificate's algorithm follows the host's key type, which
	// the CA does not fix, so every certificate type is offered.
	return []string{
		ssh.CertAlgoED25519v01,
		ssh.CertAlgoECDSA256v01,
		ssh.CertAlgoECDSA384v01,
		ssh.CertAlgoECDSA521v01,
		ssh.CertAlgoRSASHA512v01,
		ssh.CertAlgoRSASHA256v01,
	}
}
