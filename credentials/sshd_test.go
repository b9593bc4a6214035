package credentials

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/testenv"
)

// sshDialTimeout bounds the TCP connect and handshake with the local sshd.
const sshDialTimeout = 10 * time.Second

func startSSHD(t *testing.T, ca *SSHCA) *localtarget.SSHD {
	t.Helper()
	return testenv.SSHD(t, localtarget.SSHDOptions{UserCAKeys: []string{ca.AuthorizedKey()}})
}

func sshdTarget(sshd *localtarget.SSHD) configs.SSHTarget {
	target := configs.SSHTarget{Name: "local-sshd", Address: sshd.Addr, Logins: []string{sshd.Login}}
	for _, key := range sshd.HostKeys {
		target.HostKeys = append(target.HostKeys, authorizedLine(key))
	}
	return target
}

// dialAs connects to the target with the minted certificate, checking the
// host key as the proxy does.
func dialAs(t *testing.T, target configs.SSHTarget, login string, minted *Minted) (*ssh.Client, error) {
	t.Helper()
	callback, algorithms, err := HostKeyCallback(target)
	mustNil(t, err)
	return ssh.Dial("tcp", target.Address, &ssh.ClientConfig{
		User:              login,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(minted.Signer)},
		HostKeyCallback:   callback,
		HostKeyAlgorithms: algorithms,
		Timeout:           sshDialTimeout,
	})
}

func liveCertRequest(login string) CertRequest {
	now := time.Now()
	return CertRequest{
		Login:       login,
		Person:      "alice",
		RequestID:   1,
		GrantID:     2,
		SessionID:   3,
		ValidBefore: now.Add(time.Hour),
		Now:         now,
	}
}

func runCommand(t *testing.T, client *ssh.Client, command string) string {
	t.Helper()
	session, err := client.NewSession()
	mustNil(t, err)
	defer session.Close()
	out, err := session.CombinedOutput(command)
	if err != nil {
		t.Fatalf("run %q: %v: %s", command, err, out)
	}
	return string(out)
}

func TestSSHDAcceptsMintedCertificate(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	minted, err := ca.Mint(liveCertRequest(sshd.Login))
	mustNil(t, err)

	client, err := dialAs(t, sshdTarget(sshd), sshd.Login, minted)
	if err != nil {
		t.Fatalf("log in with the minted certificate: %v", err)
	}
	defer client.Close()
	if got := strings.TrimSpace(runCommand(t, client, "whoami")); got != sshd.Login {
		t.Errorf("whoami = %q, want %q", got, sshd.Login)
	}
}

func TestSSHDEnforcesPTYPermission(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	tests := []struct {
		name    string
		permit  Permissions
		wantPTY bool
	}{
		{"without permit-pty", Permissions{}, false},
		{"with permit-pty", Permissions{PTY: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := liveCertRequest(sshd.Login)
			req.Permit = tt.permit
			minted, err := ca.Mint(req)
			mustNil(t, err)
			client, err := dialAs(t, sshdTarget(sshd), sshd.Login, minted)
			if err != nil {
				t.Fatalf("log in: %v", err)
			}
			defer client.Close()
			session, err := client.NewSession()
			mustNil(t, err)
			defer session.Close()

			err = session.RequestPty("xterm", 24, 80, ssh.TerminalModes{})
			if gotPTY := err == nil; gotPTY != tt.wantPTY {
				t.Errorf("RequestPty error = %v, want PTY granted %v", err, tt.wantPTY)
			}
		})
	}
}

func TestSSHDRejectsExpiredCertificate(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	req := liveCertRequest(sshd.Login)
	req.Now = time.Now().Add(-2 * time.Hour)
	req.ValidBefore = time.Now().Add(-time.Hour)
	minted, err := ca.Mint(req)
	mustNil(t, err)

	client, err := dialAs(t, sshdTarget(sshd), sshd.Login, minted)
	if err == nil {
		client.Close()
		t.Fatal("sshd accepted a certificate whose window ended an hour ago")
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("err = %v, want an authentication failure", err)
	}
}

func TestSSHDRejectsOtherPrincipal(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	minted, err := ca.Mint(liveCertRequest("someone-else"))
	mustNil(t, err)

	client, err := dialAs(t, sshdTarget(sshd), sshd.Login, minted)
	if err == nil {
		client.Close()
		t.Fatalf("sshd accepted a certificate for someone-else as login %s", sshd.Login)
	}
}

func TestSSHDAcceptsRSACA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	mustNil(t, err)
	ca, err := LoadOrCreateCA(writeKeyFile(t, key))
	mustNil(t, err)
	sshd := startSSHD(t, ca)
	minted, err := ca.Mint(liveCertRequest(sshd.Login))
	mustNil(t, err)

	client, err := dialAs(t, sshdTarget(sshd), sshd.Login, minted)
	if err != nil {
		t.Fatalf("log in with a certificate from the RSA CA: %v", err)
	}
	defer client.Close()
	if got := strings.TrimSpace(runCommand(t, client, "echo ok")); got != "ok" {
		t.Errorf("echo ok = %q", got)
	}
}

func TestSSHDHostKeyMismatch(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	minted, err := ca.Mint(liveCertRequest(sshd.Login))
	mustNil(t, err)

	pinned := newEd25519Signer(t).PublicKey()
	target := sshdTarget(sshd)
	target.HostKeys = []string{authorizedLine(pinned)}

	client, err := dialAs(t, target, sshd.Login, minted)
	if err == nil {
		client.Close()
		t.Fatal("connected to an sshd whose host key is not the pinned one")
	}
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want ErrHostKeyMismatch", err)
	}
	var presented ssh.PublicKey
	for _, key := range sshd.HostKeys {
		if key.Type() == ssh.KeyAlgoED25519 {
			presented = key
		}
	}
	if presented == nil {
		t.Fatal("local sshd has no ed25519 host key")
	}
	for _, want := range []string{target.Name, ssh.FingerprintSHA256(pinned), ssh.FingerprintSHA256(presented)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSSHDKnownHostsFile(t *testing.T) {
	ca := newTestCA(t)
	sshd := startSSHD(t, ca)
	minted, err := ca.Mint(liveCertRequest(sshd.Login))
	mustNil(t, err)

	file := filepath.Join(t.TempDir(), "known_hosts")
	mustNil(t, os.WriteFile(file, []byte(sshd.KnownHostsLine("")), 0o600))
	target := configs.SSHTarget{Name: "local-sshd", Address: sshd.Addr, KnownHostsFile: file}

	client, err := dialAs(t, target, sshd.Login, minted)
	if err != nil {
		t.Fatalf("log in checking the host key against known_hosts: %v", err)
	}
	client.Close()
}
