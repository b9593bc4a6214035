package credentials

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jitgate/jitgate/configs"
)

const testTargetAddress = "127.0.0.1:2222"

var testRemote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}

func newEd25519Signer(t *testing.T) ssh.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	mustNil(t, err)
	signer, err := ssh.NewSignerFromKey(key)
	mustNil(t, err)
	return signer
}

func authorizedLine(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

func TestHostKeyPinned(t *testing.T) {
	host := newEd25519Signer(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mustNil(t, err)
	ecSigner, err := ssh.NewSignerFromKey(ecKey)
	mustNil(t, err)
	target := configs.SSHTarget{
		Name:     "web-1",
		Address:  testTargetAddress,
		HostKeys: []string{authorizedLine(host.PublicKey()), authorizedLine(ecSigner.PublicKey()) + " comment"},
	}

	callback, algorithms, err := HostKeyCallback(target)
	mustNil(t, err)
	if want := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256}; !slices.Equal(algorithms, want) {
		t.Errorf("algorithms = %q, want %q", algorithms, want)
	}
	if err := callback(testTargetAddress, testRemote, host.PublicKey()); err != nil {
		t.Errorf("pinned ed25519 key rejected: %v", err)
	}
	if err := callback(testTargetAddress, testRemote, ecSigner.PublicKey()); err != nil {
		t.Errorf("pinned ECDSA key rejected: %v", err)
	}
}

func TestHostKeyMismatchNamesFingerprints(t *testing.T) {
	pinned := newEd25519Signer(t)
	impostor := newEd25519Signer(t)
	target := configs.SSHTarget{Name: "web-1", Address: testTargetAddress, HostKeys: []string{authorizedLine(pinned.PublicKey())}}
	callback, _, err := HostKeyCallback(target)
	mustNil(t, err)

	err = callback(testTargetAddress, testRemote, impostor.PublicKey())
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want ErrHostKeyMismatch", err)
	}
	var hostKeyErr *HostKeyError
	if !errors.As(err, &hostKeyErr) {
		t.Fatalf("err = %T, want *HostKeyError", err)
	}
	msg := err.Error()
	for _, want := range []string{"web-1", testTargetAddress, ssh.FingerprintSHA256(pinned.PublicKey()), ssh.FingerprintSHA256(impostor.PublicKey())} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestHostKeyRSAOffersOnlySHA2(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	mustNil(t, err)
	public, err := ssh.NewPublicKey(&key.PublicKey)
	mustNil(t, err)
	_, algorithms, err := HostKeyCallback(configs.SSHTarget{Name: "web-1", Address: testTargetAddress, HostKeys: []string{authorizedLine(public)}})
	mustNil(t, err)
	if want := []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}; !slices.Equal(algorithms, want) {
		t.Errorf("algorithms = %q, want %q", algorithms, want)
	}
}

func TestHostKeyKnownHostsFile(t *testing.T) {
	host := newEd25519Signer(t)
	other := newEd25519Signer(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	lines := knownhosts.Line([]string{"[127.0.0.1]:2222"}, host.PublicKey()) + "\n" +
		knownhosts.Line([]string{"[127.0.0.1]:2223"}, other.PublicKey()) + "\n"
	mustNil(t, os.WriteFile(file, []byte(lines), 0o600))

	callback, algorithms, err := HostKeyCallback(configs.SSHTarget{Name: "web-1", Address: testTargetAddress, KnownHostsFile: file})
	mustNil(t, err)
	if want := []string{ssh.KeyAlgoED25519}; !slices.Equal(algorithms, want) {
		t.Errorf("algorithms = %q, want %q", algorithms, want)
	}
	if err := callback(testTargetAddress, testRemote, host.PublicKey()); err != nil {
		t.Errorf("known key rejected: %v", err)
	}

	err = callback(testTargetAddress, testRemote, other.PublicKey())
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("other host's key: err = %v, want ErrHostKeyMismatch", err)
	}
	for _, want := range []string{ssh.FingerprintSHA256(host.PublicKey()), ssh.FingerprintSHA256(other.PublicKey()), file + ":1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestHostKeyKnownHostsUnknownHost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	mustNil(t, os.WriteFile(file, []byte(knownhosts.Line([]string{"elsewhere"}, newEd25519Signer(t).PublicKey())+"\n"), 0o600))

	callback, algorithms, err := HostKeyCallback(configs.SSHTarget{Name: "web-1", Address: testTargetAddress, KnownHostsFile: file})
	mustNil(t, err)
	if algorithms != nil {
		t.Errorf("algorithms = %q, want nil when the file lists no key for the address", algorithms)
	}
	err = callback(testTargetAddress, testRemote, newEd25519Signer(t).PublicKey())
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want ErrHostKeyMismatch", err)
	}
	if !strings.Contains(err.Error(), "which has none") {
		t.Errorf("error %q does not say the file has no entry", err)
	}
}

func newHostCert(t *testing.T, ca ssh.Signer, host ssh.Signer, principals []string, validBefore time.Time) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key:             host.PublicKey(),
		CertType:        ssh.HostCert,
		KeyId:           "test host",
		ValidPrincipals: principals,
		ValidAfter:      uint64(time.Now().Add(-time.Hour).Unix()),
		ValidBefore:     uint64(validBefore.Unix()),
	}
	mustNil(t, cert.SignCert(rand.Reader, ca))
	signer, err := ssh.NewCertSigner(cert, host)
	mustNil(t, err)
	return signer
}

func TestHostKeyHostCA(t *testing.T) {
	ca := newEd25519Signer(t)
	otherCA := newEd25519Signer(t)
	host := newEd25519Signer(t)
	target := configs.SSHTarget{Name: "web-1", Address: testTargetAddress, HostCA: authorizedLine(ca.PublicKey())}
	callback, algorithms, err := HostKeyCallback(target)
	mustNil(t, err)
	for _, algorithm := range algorithms {
		if !strings.Contains(algorithm, "-cert-v01@openssh.com") {
			t.Errorf("algorithm %s offered, but a host CA trusts only certificates", algorithm)
		}
	}

	valid := newHostCert(t, ca, host, []string{"127.0.0.1"}, time.Now().Add(time.Hour))
	if err := callback(testTargetAddress, testRemote, valid.PublicKey()); err != nil {
		t.Errorf("valid host certificate rejected: %v", err)
	}

	tests := []struct {
		name string
		key  ssh.PublicKey
		want string
	}{
		{"plain key", host.PublicKey(), ssh.FingerprintSHA256(ca.PublicKey())},
		{"other CA", newHostCert(t, otherCA, host, []string{"127.0.0.1"}, time.Now().Add(time.Hour)).PublicKey(), ssh.FingerprintSHA256(otherCA.PublicKey())},
		{"wrong principal", newHostCert(t, ca, host, []string{"web-2"}, time.Now().Add(time.Hour)).PublicKey(), "invalid"},
		{"expired", newHostCert(t, ca, host, []string{"127.0.0.1"}, time.Now().Add(-time.Minute)).PublicKey(), "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callback(testTargetAddress, testRemote, tt.key)
			if !errors.Is(err, ErrHostKeyMismatch) {
				t.Fatalf("err = %v, want ErrHostKeyMismatch", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestHostKeyCallbackConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		target configs.SSHTarget
	}{
		{"nothing configured", configs.SSHTarget{Name: "web-1"}},
		{"bad host key", configs.SSHTarget{Name: "web-1", HostKeys: []string{"ssh-ed25519 notbase64"}}},
		{"missing known_hosts", configs.SSHTarget{Name: "web-1", KnownHostsFile: filepath.Join(t.TempDir(), "absent")}},
		{"bad host CA", configs.SSHTarget{Name: "web-1", HostCA: "garbage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := HostKeyCallback(tt.target)
			if err == nil {
				t.Fatal("HostKeyCallback: got nil error")
			}
			if !strings.Contains(err.Error(), "web-1") {
				t.Errorf("error %q does not name the target", err)
			}
		})
	}
}
