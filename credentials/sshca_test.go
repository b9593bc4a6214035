package credentials

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

var mintNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func testCertRequest() CertRequest {
	return CertRequest{
		Login:       "deploy",
		Person:      "alice",
		RequestID:   7,
		GrantID:     3,
		SessionID:   12,
		ValidBefore: mintNow.Add(time.Hour + 500*time.Millisecond),
		Now:         mintNow,
		Permit:      Permissions{PTY: true},
	}
}

func TestLoadOrCreateCAGenerates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca", "user_ca")
	ca, err := LoadOrCreateCA(path)
	mustNil(t, err)

	if got := ca.PublicKey().Type(); got != ssh.KeyAlgoED25519 {
		t.Errorf("generated CA key type = %s, want %s", got, ssh.KeyAlgoED25519)
	}
	info, err := os.Stat(path)
	mustNil(t, err)
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("private key mode = %o, want 600", mode)
	}

	pub, err := os.ReadFile(path + ".pub")
	mustNil(t, err)
	if got := strings.TrimSpace(string(pub)); got != ca.AuthorizedKey() {
		t.Errorf(".pub file = %q, want AuthorizedKey %q", got, ca.AuthorizedKey())
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ca.AuthorizedKey()))
	mustNil(t, err)
	if ssh.FingerprintSHA256(parsed) != ssh.FingerprintSHA256(ca.PublicKey()) {
		t.Error("AuthorizedKey does not parse back to PublicKey")
	}

	reloaded, err := LoadOrCreateCA(path)
	mustNil(t, err)
	if ssh.FingerprintSHA256(reloaded.PublicKey()) != ssh.FingerprintSHA256(ca.PublicKey()) {
		t.Error("second LoadOrCreateCA returned a different key: the first one was not persisted")
	}
}

func TestLoadOrCreateCAConcurrentStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "user_ca")
	const starts = 8
	fingerprints := make([]string, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Go(func() {
			ca, err := LoadOrCreateCA(path)
			if err != nil {
				t.Errorf("start %d: %v", i, err)
				return
			}
			fingerprints[i] = ssh.FingerprintSHA256(ca.PublicKey())
		})
	}
	wg.Wait()
	for i, fp := range fingerprints {
		if fp != fingerprints[0] {
			t.Errorf("start %d loaded key %s, start 0 loaded %s", i, fp, fingerprints[0])
		}
	}
}

func writeKeyFile(t *testing.T, key any) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(key, "test")
	mustNil(t, err)
	path := filepath.Join(t.TempDir(), "ca_key")
	mustNil(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	return path
}

func TestLoadOrCreateCARSASignsSHA512(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	mustNil(t, err)
	ca, err := LoadOrCreateCA(writeKeyFile(t, key))
	mustNil(t, err)

	minted, err := ca.Mint(testCertRequest())
	mustNil(t, err)
	if got := minted.Cert.Signature.Format; got != ssh.KeyAlgoRSASHA512 {
		t.Errorf("certificate signature algorithm = %s, want %s", got, ssh.KeyAlgoRSASHA512)
	}
	if got := minted.Cert.SignatureKey.Type(); got != ssh.KeyAlgoRSA {
		t.Errorf("signature key type = %s, want %s", got, ssh.KeyAlgoRSA)
	}
}

func TestLoadOrCreateCARejects(t *testing.T) {
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	mustNil(t, err)
	garbage := filepath.Join(t.TempDir(), "garbage")
	mustNil(t, os.WriteFile(garbage, []byte("not a key"), 0o600))

	tests := []struct {
		name string
		path string
		want string
	}{
		{"small RSA key", writeKeyFile(t, smallRSA), "1024 bits"},
		// Written by ssh-keygen -t ed25519 -N ...; encrypting a key in Go
		// takes seconds under the race detector.
		{"encrypted key", filepath.Join("testdata", "encrypted_ca_key"), "passphrase"},
		{"not a key", garbage, "parse SSH CA key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadOrCreateCA(tt.path)
			if err == nil {
				t.Fatal("LoadOrCreateCA: got nil error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func newTestCA(t *testing.T) *SSHCA {
	t.Helper()
	ca, err := LoadOrCreateCA(filepath.Join(t.TempDir(), "user_ca"))
	mustNil(t, err)
	return ca
}

func TestMintCertificateFields(t *testing.T) {
	ca := newTestCA(t)
	req := testCertRequest()
	minted, err := ca.Mint(req)
	mustNil(t, err)
	cert := minted.Cert

	if cert.CertType != ssh.UserCert {
		t.Errorf("CertType = %d, want user certificate", cert.CertType)
	}
	if !slices.Equal(cert.ValidPrincipals, []string{"deploy"}) {
		t.Errorf("ValidPrincipals = %q, want [deploy]", cert.ValidPrincipals)
	}
	if want := uint64(mintNow.Add(time.Hour).Unix()); cert.ValidBefore != want {
		t.Errorf("ValidBefore = %d, want %d, the window end rounded down to the second", cert.ValidBefore, want)
	}
	if want := uint64(mintNow.Add(-time.Minute).Unix()); cert.ValidAfter != want {
		t.Errorf("ValidAfter = %d, want %d, one minute before now", cert.ValidAfter, want)
	}
	if want := "jitgate person=alice request=7 grant=3 session=12"; cert.KeyId != want {
		t.Errorf("KeyId = %q, want %q", cert.KeyId, want)
	}
	if len(cert.CriticalOptions) != 0 {
		t.Errorf("CriticalOptions = %v, want none", cert.CriticalOptions)
	}
	if ssh.FingerprintSHA256(cert.SignatureKey) != ssh.FingerprintSHA256(ca.PublicKey()) {
		t.Error("certificate is not signed by the CA")
	}
	if ssh.FingerprintSHA256(minted.Signer.PublicKey()) != ssh.FingerprintSHA256(cert) {
		t.Error("Signer does not present the certificate")
	}

	checker := ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool {
			return ssh.FingerprintSHA256(auth) == ssh.FingerprintSHA256(ca.PublicKey())
		},
		Clock: func() time.Time { return mintNow },
	}
	if err := checker.CheckCert("deploy", cert); err != nil {
		t.Errorf("CheckCert for deploy: %v", err)
	}
	if err := checker.CheckCert("root", cert); err == nil {
		t.Error("CheckCert for root: got nil error, but root is not a principal")
	}
}

func TestMintExtensions(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name   string
		permit Permissions
		want   []string
	}{
		{"none", Permissions{}, nil},
		{"pty only", Permissions{PTY: true}, []string{"permit-pty"}},
		{"forwarding", Permissions{PortForwarding: true, AgentForwarding: true, X11Forwarding: true}, []string{"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding"}},
		{"all", Permissions{true, true, true, true, true}, []string{"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testCertRequest()
			req.Permit = tt.permit
			minted, err := ca.Mint(req)
			mustNil(t, err)
			got := slices.Sorted(maps.Keys(minted.Cert.Extensions))
			if !slices.Equal(got, tt.want) {
				t.Errorf("extensions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMintFreshKeyAndSerial(t *testing.T) {
	ca := newTestCA(t)
	first, err := ca.Mint(testCertRequest())
	mustNil(t, err)
	second, err := ca.Mint(testCertRequest())
	mustNil(t, err)
	if ssh.FingerprintSHA256(first.Cert.Key) == ssh.FingerprintSHA256(second.Cert.Key) {
		t.Error("two certificates share one key, but each connection needs a fresh key")
	}
	if first.Cert.Serial == second.Cert.Serial {
		t.Error("two certificates share one serial")
	}
}

func TestMintRejectsInvalidRequests(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name   string
		change func(*CertRequest)
	}{
		{"no login", func(r *CertRequest) { r.Login = "" }},
		{"login with space", func(r *CertRequest) { r.Login = "de ploy" }},
		{"no person", func(r *CertRequest) { r.Person = "" }},
		{"person with space", func(r *CertRequest) { r.Person = "alice grant=9" }},
		{"person with newline", func(r *CertRequest) { r.Person = "alice\n" }},
		{"no now", func(r *CertRequest) { r.Now = time.Time{} }},
		{"window ended", func(r *CertRequest) { r.ValidBefore = r.Now }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testCertRequest()
			tt.change(&req)
			if _, err := ca.Mint(req); err == nil {
				t.Error("Mint: got nil error")
			}
		})
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    string
		wantErr bool
	}{
		{"trailing newline", "s3cret\n", "s3cret", false},
		{"windows line break", "s3cret\r\n", "s3cret", false},
		{"inner spaces kept", " a b ", " a b ", false},
		{"empty", "", "", true},
		{"only newline", "\n", "", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "secret"+string(rune('a'+i)))
			mustNil(t, os.WriteFile(path, []byte(tt.content), 0o600))
			got, err := ReadSecretFile(path)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ReadSecretFile = %q, want an error", got)
				}
				return
			}
			mustNil(t, err)
			if got != tt.want {
				t.Errorf("ReadSecretFile = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadSecretFile of a missing file: err = %v, want os.ErrNotExist", err)
	}
}
