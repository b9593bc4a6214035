package localtarget

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// userKey is a client key pair, with the private key also on disk for the
// OpenSSH client.
type userKey struct {
	signer  ssh.Signer
	private ed25519.PrivateKey
	path    string
}

func newUserKey(t *testing.T) userKey {
	t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(private, "test user key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return userKey{signer: signer, private: private, path: path}
}

func (k userKey) authorizedKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.signer.PublicKey())))
}

// certSigner returns a signer that presents a user certificate for key,
// signed by ca, valid for principals.
func certSigner(t *testing.T, key userKey, ca ssh.Signer, principals ...string) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key:             key.signer.PublicKey(),
		Serial:          42,
		CertType:        ssh.UserCert,
		KeyId:           "localtarget-test",
		ValidPrincipals: principals,
		ValidAfter:      uint64(time.Now().Add(-time.Minute).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
		Permissions: ssh.Permissions{Extensions: map[string]string{
			"permit-pty":             "",
			"permit-port-forwarding": "",
		}},
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewCertSigner(cert, key.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func startTestSSHD(t *testing.T, opts SSHDOptions) *SSHD {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = traversableTempDir(t)
	}

	start := time.Now()
	s, err := StartSSHD(t.Context(), opts)
	if errors.Is(err, ErrSSHDNotInstalled) && os.Getenv("JITGATE_REQUIRE_TARGETS") == "" {
		t.Skipf("skipping, sshd is not installed (set JITGATE_REQUIRE_TARGETS=1 to fail instead): %v", err)
	}
	if err != nil {
		t.Fatalf("StartSSHD: %v", err)
	}
	t.Logf("sshd started in %v on %s for login %s", time.Since(start).Round(time.Millisecond), s.Addr, s.Login)

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sshd log %s:\n%s", s.LogPath, lastLines(s.ReadLog(), 60))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func knownHostsFile(t *testing.T, s *SSHD, alias string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(s.KnownHostsLine(alias)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func dialSSH(t *testing.T, s *SSHD, user string, signer ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	hostKeyCallback, err := knownhosts.New(knownHostsFile(t, s, ""))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeyCallback,
		Timeout:         10 * time.Second,
	})
}

func runSSH(t *testing.T, client *ssh.Client, command string) string {
	t.Helper()
	session, err := client.NewSession()
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	defer session.Close()
	out, err := session.CombinedOutput(command)
	if err != nil {
		t.Fatalf("run %q: %v\n%s", command, err, out)
	}
	return strings.TrimSpace(string(out))
}

// openSSHArgs returns ssh(1) options that use only the given key and
// known_hosts file, whatever the running user's ~/.ssh holds.
func openSSHArgs(s *SSHD, keyPath, knownHosts string, extra ...string) []string {
	args := []string{
		"-F", "none",
		"-i", keyPath,
		"-p", strconv.Itoa(s.Port),
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "GlobalKnownHostsFile=none",
		"-o", "ConnectTimeout=10",
	}
	return append(args, extra...)
}

func TestSSHDLoginWithOpenSSHClient(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("skipping, the OpenSSH client ssh is not installed")
	}
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})

	if os.Geteuid() == 0 && s.Login != DefaultLoginUser {
		t.Errorf("Login = %q as root, want %q", s.Login, DefaultLoginUser)
	}
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Errorf("Addr = %q, want 127.0.0.1:port", s.Addr)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := openSSHArgs(s, key.path, knownHostsFile(t, s, ""), s.Login+"@127.0.0.1", "id -un")
	out, err := exec.CommandContext(ctx, sshPath, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if got := strings.TrimSpace(string(out)); got != s.Login {
		t.Errorf("id -un printed %q, want %q", got, s.Login)
	}
	if !strings.Contains(s.ReadLog(), "Accepted publickey for "+s.Login) {
		t.Errorf("sshd log does not record the publickey login of %s", s.Login)
	}
}

func TestSSHDHostKeyAlias(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("skipping, the OpenSSH client ssh is not installed")
	}
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := openSSHArgs(s, key.path, knownHostsFile(t, s, "demo-target"),
		"-o", "HostKeyAlias=demo-target", s.Login+"@127.0.0.1", "true")
	if out, err := exec.CommandContext(ctx, sshPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh with HostKeyAlias=demo-target: %v\n%s", err, out)
	}

	// The same known_hosts file must not vouch for the address, or the
	// alias would not be what the client checked.
	args = openSSHArgs(s, key.path, knownHostsFile(t, s, "demo-target"), s.Login+"@127.0.0.1", "true")
	if out, err := exec.CommandContext(ctx, sshPath, args...).CombinedOutput(); err == nil {
		t.Errorf("ssh without the alias accepted a known_hosts file written for the alias:\n%s", out)
	}
}

func TestSSHDKnownHostsLine(t *testing.T) {
	keys, err := generateHostKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := &SSHD{Addr: "127.0.0.1:2200", Port: 2200}
	for _, k := range keys {
		s.HostKeys = append(s.HostKeys, k.public)
	}

	lines := strings.Split(strings.TrimSuffix(s.KnownHostsLine(""), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("KnownHostsLine returned %d lines, want one per host key (3):\n%s", len(lines), s.KnownHostsLine(""))
	}
	wantTypes := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}
	for i, line := range lines {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Errorf("line %d = %q, want host, key type and key", i, line)
			continue
		}
		if fields[0] != "[127.0.0.1]:2200" {
			t.Errorf("line %d host = %q, want [127.0.0.1]:2200", i, fields[0])
		}
		if fields[1] != wantTypes[i] {
			t.Errorf("line %d key type = %q, want %q", i, fields[1], wantTypes[i])
		}
	}

	if got := strings.Fields(s.KnownHostsLine("demo-target"))[0]; got != "demo-target" {
		t.Errorf("alias line host = %q, want demo-target", got)
	}
}

func TestSSHDLoginWithUserCertificate(t *testing.T) {
	_, caKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ssh.NewSignerFromKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	caLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey())))
	s := startTestSSHD(t, SSHDOptions{UserCAKeys: []string{caLine}})
	key := newUserKey(t) // not in AuthorizedKeys: only the certificate can work

	client, err := dialSSH(t, s, s.Login, certSigner(t, key, ca, s.Login))
	if err != nil {
		t.Fatalf("certificate login as %s: %v", s.Login, err)
	}
	defer client.Close()

	if got := runSSH(t, client, "id -un"); got != s.Login {
		t.Errorf("id -un printed %q, want %q", got, s.Login)
	}
	if !strings.Contains(s.ReadLog(), "ID localtarget-test (serial 42) CA") {
		t.Errorf("sshd log does not record the certificate login:\n%s", lastLines(s.ReadLog(), 20))
	}
}

func TestSSHDRejectsBadCertificates(t *testing.T) {
	newCA := func() ssh.Signer {
		_, private, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(private)
		if err != nil {
			t.Fatal(err)
		}
		return signer
	}
	trusted, untrusted := newCA(), newCA()
	caLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(trusted.PublicKey())))
	s := startTestSSHD(t, SSHDOptions{UserCAKeys: []string{caLine}})
	key := newUserKey(t)

	cases := []struct {
		name   string
		signer ssh.Signer
	}{
		{"other principal", certSigner(t, key, trusted, "someone-else")},
		{"untrusted CA", certSigner(t, key, untrusted, s.Login)},
		{"plain key", key.signer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, err := dialSSH(t, s, s.Login, tc.signer)
			if err == nil {
				client.Close()
				t.Fatal("login succeeded")
			}
			if !strings.Contains(err.Error(), "unable to authenticate") {
				t.Errorf("login failed with %v, want an authentication failure", err)
			}
		})
	}
}

func TestSSHDRejectsRootLogin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping, logins go to the current user when not root")
	}
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})

	client, err := dialSSH(t, s, "root", key.signer)
	if err == nil {
		client.Close()
		t.Fatal("login as root succeeded")
	}
}

func TestSSHDMaxSessions(t *testing.T) {
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}, MaxSessions: 2})
	client, err := dialSSH(t, s, s.Login, key.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	for i := range 2 {
		session, err := client.NewSession()
		if err != nil {
			t.Fatalf("session %d of MaxSessions 2: %v", i+1, err)
		}
		defer session.Close()
	}
	if session, err := client.NewSession(); err == nil {
		session.Close()
		t.Error("a third session opened with MaxSessions 2")
	}
}

func TestSSHDTCPForwarding(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			conn, err := target.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("hello\n"))
			conn.Close()
		}
	}()

	for _, allow := range []bool{true, false} {
		t.Run("allow="+strconv.FormatBool(allow), func(t *testing.T) {
			key := newUserKey(t)
			s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}, AllowTCPForwarding: allow})
			client, err := dialSSH(t, s, s.Login, key.signer)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()

			conn, err := client.Dial("tcp", target.Addr().String())
			if !allow {
				if err == nil {
					conn.Close()
					t.Fatal("direct-tcpip channel opened with AllowTcpForwarding no")
				}
				return
			}
			if err != nil {
				t.Fatalf("direct-tcpip to %s with AllowTcpForwarding yes: %v", target.Addr(), err)
			}
			defer conn.Close()
			got, err := io.ReadAll(conn)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "hello\n" {
				t.Errorf("forwarded connection read %q, want %q", got, "hello\n")
			}
		})
	}
}

func TestSSHDSFTPSubsystem(t *testing.T) {
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})
	client, err := dialSSH(t, s, s.Login, key.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if err := session.RequestSubsystem("sftp"); err != nil {
		t.Fatalf("request the sftp subsystem: %v", err)
	}
}

func TestSSHDLoginHomeWritable(t *testing.T) {
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})
	client, err := dialSSH(t, s, s.Login, key.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	got := runSSH(t, client, `f=$(mktemp "$HOME/.jitgate-write-check.XXXXXX") && echo ok && rm -f "$f"; echo "$HOME"`)
	if want := "ok\n" + s.LoginHome; got != want {
		t.Errorf("write check in the login home printed %q, want %q", got, want)
	}
}

func TestSSHDStopEndsProcesses(t *testing.T) {
	key := newUserKey(t)
	s := startTestSSHD(t, SSHDOptions{AuthorizedKeys: []string{key.authorizedKey()}})
	client, err := dialSSH(t, s, s.Login, key.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	// Keep a shell running so Stop has a live connection to end.
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if err := session.Start("sleep 600"); err != nil {
		t.Fatal(err)
	}

	listener := s.PID()
	var descendants []procEntry
	var sleepRuns bool
	deadline := time.Now().Add(5 * time.Second)
	for !sleepRuns && time.Now().Before(deadline) {
		levels, err := descendantLevels(listener)
		if err != nil {
			t.Fatal(err)
		}
		descendants = slices.Concat(levels...)
		for _, d := range descendants {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(d.pid) + "/cmdline")
			sleepRuns = sleepRuns || strings.HasPrefix(string(cmdline), "sleep\x00600")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sleepRuns {
		t.Fatalf("no 'sleep 600' below the listening sshd %d, so Stop is not tested on a running command", listener)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(listener, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("listening sshd pid %d after Stop: kill(0) = %v, want ESRCH", listener, err)
	}
	for _, d := range descendants {
		if d.running() {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(d.pid) + "/cmdline")
			t.Errorf("pid %d (%q) still runs after Stop", d.pid, cmdline)
		}
	}

	waitErr := make(chan error, 1)
	go func() { waitErr <- session.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(10 * time.Second):
		t.Error("the client session did not end within 10s of Stop")
	}
	if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", s.Addr)
	}
}

func TestSSHDRetriesOnPortClash(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()
	occupiedPort := occupied.Addr().(*net.TCPAddr).Port

	calls := 0
	freePort = func() (int, error) {
		calls++
		if calls == 1 {
			return occupiedPort, nil
		}
		return FreePort()
	}
	t.Cleanup(func() { freePort = FreePort })

	s := startTestSSHD(t, SSHDOptions{})
	if s.Port == occupiedPort {
		t.Errorf("Port = %d, the occupied port", s.Port)
	}
	if calls != 2 {
		t.Errorf("freePort called %d times, want 2 (one clash, one retry)", calls)
	}
	if !strings.Contains(s.ReadLog(), "Address already in use") {
		t.Errorf("log has no bind failure, so the clash was not exercised:\n%s", s.ReadLog())
	}
}

func TestSSHDRejectsInvalidKeyLines(t *testing.T) {
	cases := []struct {
		name string
		opts SSHDOptions
	}{
		{"garbage authorized key", SSHDOptions{AuthorizedKeys: []string{"not a key"}}},
		{"CA key with options", SSHDOptions{UserCAKeys: []string{`from="127.0.0.1" ` + newUserKey(t).authorizedKey()}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Dir = traversableTempDir(t)
			s, err := StartSSHD(t.Context(), tc.opts)
			if errors.Is(err, ErrSSHDNotInstalled) {
				t.Skip("skipping, sshd is not installed")
			}
			if err == nil {
				s.Stop()
				t.Fatal("StartSSHD accepted an invalid key line")
			}
		})
	}
}

func TestSSHDDebugLogLevel(t *testing.T) {
	s := startTestSSHD(t, SSHDOptions{Debug: true})
	config, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(config, []byte("\nLogLevel DEBUG3\n")) {
		t.Errorf("config has no LogLevel DEBUG3:\n%s", config)
	}
	if !strings.Contains(s.ReadLog(), "debug3:") {
		t.Errorf("log has no debug3 lines:\n%s", lastLines(s.ReadLog(), 10))
	}
}
