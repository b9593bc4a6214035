package localtarget

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// hostKeyRSABits is the RSA host key size, the size ssh-keygen uses by
// default since OpenSSH 8.8.
const hostKeyRSABits = 3072

// sshdFiles are the paths the sshd config refers to.
type sshdFiles struct {
	hostKeyPaths       []string
	hostKeys           []ssh.PublicKey
	trustedUserCAKeys  string
	authorizedKeysFile string
	pidFile            string
}

// writeSSHDFiles generates the host keys and writes the key files into dir.
func writeSSHDFiles(dir string, opts SSHDOptions) (sshdFiles, error) {
	if strings.ContainsAny(dir, "\"%") {
		return sshdFiles{}, fmt.Errorf("sshd folder %q contains '\"' or '%%', which sshd_config cannot quote: choose another Dir", dir)
	}
	files := sshdFiles{
		trustedUserCAKeys:  filepath.Join(dir, "trusted_user_ca_keys"),
		authorizedKeysFile: filepath.Join(dir, "authorized_keys"),
		pidFile:            filepath.Join(dir, "sshd.pid"),
	}

	signers, err := generateHostKeys()
	if err != nil {
		return sshdFiles{}, err
	}
	for _, hostKey := range signers {
		path := filepath.Join(dir, "ssh_host_"+hostKey.name+"_key")
		block, err := ssh.MarshalPrivateKey(hostKey.private, "jitgate local sshd")
		if err != nil {
			return sshdFiles{}, fmt.Errorf("encode the %s host key: %w", hostKey.name, err)
		}
		// sshd ignores a host key that others can read.
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			return sshdFiles{}, fmt.Errorf("write host key %s: %w", path, err)
		}
		files.hostKeyPaths = append(files.hostKeyPaths, path)
		files.hostKeys = append(files.hostKeys, hostKey.public)
	}

	// Both files are 0644 because sshd reads AuthorizedKeysFile with the
	// login user's rights.
	if err := os.WriteFile(files.trustedUserCAKeys, []byte(keyLines(opts.UserCAKeys)), 0o644); err != nil {
		return sshdFiles{}, fmt.Errorf("write TrustedUserCAKeys file %s: %w", files.trustedUserCAKeys, err)
	}
	if err := os.WriteFile(files.authorizedKeysFile, []byte(keyLines(opts.AuthorizedKeys)), 0o644); err != nil {
		return sshdFiles{}, fmt.Errorf("write AuthorizedKeysFile %s: %w", files.authorizedKeysFile, err)
	}
	return files, nil
}

type hostKey struct {
	name    string // the type in OpenSSH's file name: ed25519, ecdsa, rsa
	private crypto.Signer
	public  ssh.PublicKey
}

// generateHostKeys creates an ed25519, an ECDSA P-256 and an RSA host key,
// in parallel because the RSA key takes a few hundred milliseconds.
func generateHostKeys() ([]hostKey, error) {
	generators := []struct {
		name     string
		generate func() (crypto.Signer, error)
	}{
		{"ed25519", func() (crypto.Signer, error) {
			_, key, err := ed25519.GenerateKey(rand.Reader)
			return key, err
		}},
		{"ecdsa", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{"rsa", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, hostKeyRSABits) }},
	}

	keys := make([]hostKey, len(generators))
	errs := make([]error, len(generators))
	var wg sync.WaitGroup
	for i, g := range generators {
		wg.Go(func() {
			private, err := g.generate()
			if err != nil {
				errs[i] = fmt.Errorf("generate the %s host key: %w", g.name, err)
				return
			}
			public, err := ssh.NewPublicKey(private.Public())
			if err != nil {
				errs[i] = fmt.Errorf("convert the %s host key: %w", g.name, err)
				return
			}
			keys[i] = hostKey{name: g.name, private: private, public: public}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, nil
}

// validateKeyLines checks that every line of an authorized_keys-format
// option parses, so a typo fails the start with the line named and not as
// a silent login failure. Options such as from="..." are allowed only when
// allowOptions is set, because TrustedUserCAKeys accepts bare keys.
func validateKeyLines(option string, lines []string, allowOptions bool) error {
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.Contains(trimmed, "\n") {
			return fmt.Errorf("%s[%d] contains a line break: pass one key per element", option, i)
		}
		_, _, keyOptions, _, err := ssh.ParseAuthorizedKey([]byte(trimmed))
		if err != nil {
			return fmt.Errorf("%s[%d] %q is not an authorized_keys line: %w", option, i, trimmed, err)
		}
		if len(keyOptions) > 0 && !allowOptions {
			return fmt.Errorf("%s[%d] has options %v, which %s does not accept: pass the bare key", option, i, keyOptions, option)
		}
	}
	return nil
}

func keyLines(lines []string) string {
	var b strings.Builder
	for _, line := range lines {
		b.WriteString(strings.TrimSpace(line))
		b.WriteString("\n")
	}
	return b.String()
}

// sshdConfig renders the sshd_config for one start. Paths are quoted, and
// writeSSHDFiles rejects folders whose path needs escaping.
func sshdConfig(files sshdFiles, opts SSHDOptions, login, addr string) string {
	logLevel := "VERBOSE"
	if opts.Debug {
		logLevel = "DEBUG3"
	}
	var b strings.Builder
	line := func(keyword string, value string) {
		fmt.Fprintf(&b, "%s %s\n", keyword, value)
	}

	b.WriteString("# Written by jitgate localtarget for a demo or test sshd on loopback.\n")
	line("ListenAddress", addr)
	for _, path := range files.hostKeyPaths {
		line("HostKey", quoteConfigPath(path))
	}
	line("PidFile", quoteConfigPath(files.pidFile))
	line("LogLevel", logLevel)

	line("PermitRootLogin", "no")
	line("AllowUsers", login)
	line("PubkeyAuthentication", "yes")
	line("AuthorizedKeysFile", quoteConfigPath(files.authorizedKeysFile))
	line("TrustedUserCAKeys", quoteConfigPath(files.trustedUserCAKeys))
	line("PasswordAuthentication", "no")
	line("KbdInteractiveAuthentication", "no")
	line("UsePAM", "no")
	// The key files sit in a folder that root, not the login user, owns.
	line("StrictModes", "no")

	line("MaxSessions", strconv.Itoa(opts.MaxSessions))
	line("AllowTcpForwarding", yesNo(opts.AllowTCPForwarding))
	line("X11Forwarding", yesNo(opts.X11Forwarding))
	line("PermitUserEnvironment", "no")
	line("Subsystem", "sftp internal-sftp")
	line("UseDNS", "no")
	line("PrintMotd", "no")
	return b.String()
}

func quoteConfigPath(path string) string { return `"` + path + `"` }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
