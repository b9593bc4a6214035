package sshproxy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// sshKeygen creates a key pair with ssh-keygen and returns the private key
// path and the public key line.
func sshKeygen(t *testing.T, dir, name string, args ...string) (string, string) {
	t.Helper()
	path := filepath.Join(dir, name)
	cmd := exec.Command("ssh-keygen", append([]string{"-q", "-N", "", "-C", name, "-f", path}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(pub))
}

// sshWithKey runs `true` through the front door with one key, plus extra
// options placed before the standard ones.
func (e *env) sshWithKey(key string, extra ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(extra, testHost, "true")
	cmd := exec.CommandContext(ctx, "ssh", e.withStandardOptions(args, e.port, e.user(), key)...)
	_, stderr, code := runSSH(e.t, cmd, nil)
	return stderr, code
}

func TestClientKeyAndHostKeyAlgorithms(t *testing.T) {
	keys := t.TempDir()
	rsaKey, rsaLine := sshKeygen(t, keys, "id_rsa", "-t", "rsa", "-b", "3072")
	ecdsaKey, ecdsaLine := sshKeygen(t, keys, "id_ecdsa", "-t", "ecdsa")
	e := newEnv(t, envOptions{aliceKeys: []string{rsaLine, ecdsaLine}})
	e.grant()

	t.Run("key types", func(t *testing.T) {
		for _, key := range []string{rsaKey, ecdsaKey, e.keyPath} {
			if stderr, code := e.sshWithKey(key); code != 0 {
				t.Errorf("login with %s: exit %d: %s", filepath.Base(key), code, stderr)
			}
		}
	})
	t.Run("server-sig-algs", func(t *testing.T) {
		stderr, code := e.sshWithKey(rsaKey, "-vv")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		m := regexp.MustCompile(`server-sig-algs=<([^>]*)>`).FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("ssh -vv shows no server-sig-algs:\n%s", stderr)
		}
		for _, algo := range []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519", "sk-ssh-ed25519@openssh.com"} {
			if !strings.Contains(","+m[1]+",", ","+algo+",") {
				t.Errorf("server-sig-algs %q lacks %s", m[1], algo)
			}
		}
		if strings.Contains(","+m[1]+",", ",ssh-rsa,") {
			t.Errorf("server-sig-algs %q offers SHA-1 ssh-rsa", m[1])
		}
	})
	t.Run("host key algorithms", func(t *testing.T) {
		for _, algo := range []string{"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"} {
			if stderr, code := e.sshWithKey(e.keyPath, "-o", "HostKeyAlgorithms="+algo); code != 0 {
				t.Errorf("HostKeyAlgorithms=%s: exit %d: %s", algo, code, stderr)
			}
		}
	})
	t.Run("wrong keys first", func(t *testing.T) {
		var args []string
		for _, name := range []string{"k1", "k2", "k3"} {
			k, _ := sshKeygen(t, keys, name, "-t", "ed25519")
			args = append(args, "-i", k)
		}
		// The extra -i options come before the standard one with alice's
		// key, and ssh offers keys in command-line order.
		if stderr, code := e.sshWithKey(e.keyPath, args...); code != 0 {
			t.Errorf("three unknown keys, then alice's: exit %d: %s", code, stderr)
		}
	})
}

func TestLoginCertificates(t *testing.T) {
	keys := t.TempDir()
	edCA, edCALine := sshKeygen(t, keys, "login_ca_ed25519", "-t", "ed25519")
	rsaCA, rsaCALine := sshKeygen(t, keys, "login_ca_rsa", "-t", "rsa", "-b", "3072")
	e := newEnv(t, envOptions{loginCAKeys: []string{edCALine, rsaCALine}})
	e.grant()
	otherCA, _ := sshKeygen(t, keys, "unlisted_ca", "-t", "ed25519")

	sign := func(name, ca, principal string, extra ...string) string {
		key, _ := sshKeygen(t, keys, name, "-t", "ed25519")
		args := append([]string{"-q", "-s", ca, "-I", name, "-n", principal, "-V", "-5m:+1h"}, extra...)
		cmd := exec.Command("ssh-keygen", append(args, key+".pub")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sign %s: %v\n%s", name, err, out)
		}
		return key
	}
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"ed25519 CA", sign("cert_ed", edCA, "alice"), true},
		{"rsa-sha2-512 CA", sign("cert_rsa", rsaCA, "alice", "-t", "rsa-sha2-512"), true},
		{"unknown principal", sign("cert_mallory", edCA, "mallory"), false},
		{"unlisted CA", sign("cert_unlisted", otherCA, "alice"), false},
		{"expired", sign("cert_expired", edCA, "alice", "-V", "20200101:20200102"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			stderr, code := e.sshWithKey(tt.key)
			if tt.ok && code != 0 {
				t.Errorf("login with the certificate: exit %d: %s", code, stderr)
			}
			if !tt.ok && (code != 255 || !strings.Contains(stderr, "Permission denied")) {
				t.Errorf("login with a bad certificate: exit %d, stderr %q; want 255 and Permission denied", code, stderr)
			}
		})
	}
}

func TestStrictKeyExchangeAndRekey(t *testing.T) {
	e := newEnv(t, envOptions{sshd: localtarget.SSHDOptions{Debug: true}})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	stderr, code := e.sshWithKey(e.keyPath, "-vv")
	if code != 0 || !strings.Contains(stderr, "kex-strict-s-v00@openssh.com") {
		t.Errorf("ssh -vv: exit %d; the server's KEXINIT lacks kex-strict-s-v00@openssh.com", code)
	}
	for _, opts := range [][]string{
		{"-o", "Ciphers=chacha20-poly1305@openssh.com"},
		{"-o", "Ciphers=aes256-gcm@openssh.com"},
		{"-o", "MACs=hmac-sha2-256-etm@openssh.com", "-o", "Ciphers=aes128-ctr"},
	} {
		if stderr, code := e.sshWithKey(e.keyPath, opts...); code != 0 {
			t.Errorf("%v: exit %d: %s", opts, code, stderr)
		}
	}

	if !strings.Contains(e.sshd.ReadLog(), "kex-strict-c-v00@openssh.com") {
		t.Errorf("the sshd debug log shows no kex-strict-c-v00@openssh.com in jitgate's KEXINIT")
	}

	stdout, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "-o", "RekeyLimit=1M", testHost, "yes | head -c 50000000"), nil)
	if code != 0 || len(stdout) != 50000000 {
		t.Errorf("50000000 bytes with rekeying every MiB: got %d bytes, exit %d: %s", len(stdout), code, stderr)
	}
}

func TestUpstreamCertificateAndHostKeys(t *testing.T) {
	keys := t.TempDir()
	rsaCA, _ := sshKeygen(t, keys, "user_ca_rsa", "-t", "rsa", "-b", "3072")
	byType := func(keyType string) func([]ssh.PublicKey) []ssh.PublicKey {
		return func(all []ssh.PublicKey) []ssh.PublicKey {
			var out []ssh.PublicKey
			for _, k := range all {
				if k.Type() == keyType {
					out = append(out, k)
				}
			}
			return out
		}
	}
	tests := []struct {
		name string
		opts envOptions
	}{
		{"RSA user CA", envOptions{userCAKeyFile: rsaCA}},
		{"only the ECDSA host key pinned", envOptions{hostKeys: byType(ssh.KeyAlgoECDSA256)}},
		{"only the RSA host key pinned", envOptions{hostKeys: byType(ssh.KeyAlgoRSA)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			e.grant()
			if stderr, code := e.sshWithKey(e.keyPath); code != 0 {
				t.Errorf("exit %d: %s", code, stderr)
			}
		})
	}

	t.Run("replaced host key", func(t *testing.T) {
		stranger, _ := sshKeygen(t, keys, "stranger", "-t", "ed25519")
		strangerPub, err := os.ReadFile(stranger + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		wrong, _, _, _, err := ssh.ParseAuthorizedKey(strangerPub)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, envOptions{hostKeys: func([]ssh.PublicKey) []ssh.PublicKey { return []ssh.PublicKey{wrong} }})
		e.grant()
		stderr, code := e.sshWithKey(e.keyPath)
		if code != 255 || !strings.Contains(stderr, "jitgate: web-1 presented a host key that jitgate does not trust") {
			t.Errorf("exit %d, stderr %q; want 255 and the host key message", code, stderr)
		}
		logs := e.logs.String()
		for _, fp := range []string{ssh.FingerprintSHA256(wrong), ssh.FingerprintSHA256(e.sshd.HostKeys[0])} {
			if !strings.Contains(logs, fp) {
				t.Errorf("the log does not name fingerprint %s", fp)
			}
		}
	})
}
