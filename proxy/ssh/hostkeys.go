package sshproxy

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

	"golang.org/x/crypto/ssh"
)

// Host key file names, as sshd names its own, used in the folder of the
// configured host key.
const (
	hostKeyEd25519File = "ssh_host_ed25519_key"
	hostKeyECDSAFile   = "ssh_host_ecdsa_key"
	hostKeyRSAFile     = "ssh_host_rsa_key"
	hostKeyRSABits     = 3072
	hostKeyFileMode    = 0o600
	hostKeyDirMode     = 0o700
)

// loadHostKeys returns the front door's host keys. The configured file (or
// ssh_host_ed25519_key in stateDir) is required. The files
// ssh_host_ecdsa_key and ssh_host_rsa_key in the same folder are used when
// present, so clients restricted to ECDSA or RSA host keys connect too. On first start,
// when the configured file does not exist, all three are generated, the
// way `ssh-keygen -A` does for sshd.
func loadHostKeys(path, stateDir string) ([]ssh.Signer, error) {
	if path == "" {
		if stateDir == "" {
			return nil, errors.New("sshproxy: no host key: set ssh.host_key_file in the config or Options.StateDir")
		}
		path = filepath.Join(stateDir, hostKeyEd25519File)
	}
	_, err := os.Stat(path)
	firstStart := errors.Is(err, os.ErrNotExist)
	if err != nil && !firstStart {
		return nil, fmt.Errorf("sshproxy: host key %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	files := []struct {
		path     string
		generate func() (crypto.Signer, error)
		required bool
	}{
		{path, generateEd25519, true},
		{filepath.Join(dir, hostKeyECDSAFile), generateECDSA, false},
		{filepath.Join(dir, hostKeyRSAFile), generateRSA, false},
	}
	var signers []ssh.Signer
	for _, f := range files {
		if f.path != path && filepath.Clean(f.path) == filepath.Clean(path) {
			continue
		}
		if firstStart {
			if err := createHostKey(f.path, f.generate); err != nil {
				return nil, err
			}
		}
		signer, err := readHostKey(f.path)
		if errors.Is(err, os.ErrNotExist) && !f.required {
			continue
		}
		if err != nil {
			return nil, err
		}
		signers = append(signers, signer)
	}
	return signers, nil
}

func readHostKey(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sshproxy: read host key %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("sshproxy: parse host key %s (an unencrypted OpenSSH private key is expected): %w", path, err)
	}
	return signer, nil
}

// createHostKey writes a new key to path unless the file already exists,
// for example because another process created it first.
func createHostKey(path string, generate func() (crypto.Signer, error)) error {
	key, err := generate()
	if err != nil {
		return fmt.Errorf("sshproxy: generate host key %s: %w", path, err)
	}
	block, err := ssh.MarshalPrivateKey(key, "jitgate host key")
	if err != nil {
		return fmt.Errorf("sshproxy: encode host key %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), hostKeyDirMode); err != nil {
		return fmt.Errorf("sshproxy: create folder for host key %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, hostKeyFileMode)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sshproxy: create host key %s: %w", path, err)
	}
	_, writeErr := f.Write(pem.EncodeToMemory(block))
	if err := errors.Join(writeErr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("sshproxy: write host key %s: %w", path, err)
	}
	return nil
}

func generateEd25519() (crypto.Signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return key, err
}

func generateECDSA() (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func generateRSA() (crypto.Signer, error) {
	return rsa.GenerateKey(rand.Reader, hostKeyRSABits)
}
