package credentials

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// caKeyComment is the comment stored in a generated CA key file.
const caKeyComment = "jitgate user CA"

// minCARSABits is the smallest RSA CA key size accepted, in bits.
const minCARSABits = 2048

// File modes of the CA key pair.
const (
	caPrivateKeyMode = 0o600
	caPublicKeyMode  = 0o644
	caDirMode        = 0o700
)

// SSHCA is the user certificate authority that signs the certificates
// jitgate presents to upstream sshd servers.
type SSHCA struct {
	path string
	// signer signs certificates. For an RSA key it is restricted to
	// rsa-sha2-512, because ssh-rsa signatures use SHA-1, and OpenSSH 8.2
	// removed ssh-rsa from the default CASignatureAlgorithms.
	signer ssh.Signer
}

// LoadOrCreateCA reads the CA's private key from path, an unencrypted
// OpenSSH or PEM private key file (ed25519, ECDSA, or RSA of at least 2048
// bits). When the file does not exist it generates an ed25519 key, writes
// it to path with mode 0600 and its public key to path+".pub", creating
// the folder with mode 0700 if needed.
func LoadOrCreateCA(path string) (*SSHCA, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createCA(path)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: read SSH CA key %s: %w", path, err)
	}
	return parseCA(path, data)
}

func parseCA(path string, data []byte) (*SSHCA, error) {
	key, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("credentials: SSH CA key %s is encrypted with a passphrase, which jitgate cannot enter: remove it with `ssh-keygen -p -N '' -f %s`: %w", path, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: parse SSH CA key %s: %w", path, err)
	}
	signer, err := caSigner(key)
	if err != nil {
		return nil, fmt.Errorf("credentials: SSH CA key %s: %w", path, err)
	}
	return &SSHCA{path: path, signer: signer}, nil
}

// caSigner checks the key type and, for RSA, returns a signer that uses
// only rsa-sha2-512.
func caSigner(key ssh.Signer) (ssh.Signer, error) {
	switch keyType := key.PublicKey().Type(); keyType {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return key, nil
	case ssh.KeyAlgoRSA:
		return rsaCASigner(key)
	default:
		return nil, fmt.Errorf("key type %s cannot sign certificates here: use an ed25519 key (`ssh-keygen -t ed25519`)", keyType)
	}
}

func rsaCASigner(key ssh.Signer) (ssh.Signer, error) {
	cryptoKey, ok := key.PublicKey().(ssh.CryptoPublicKey)
	if !ok {
		return nil, errors.New("RSA key does not expose its public key")
	}
	rsaKey, ok := cryptoKey.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("key of type ssh-rsa is not an RSA key")
	}
	if bits := rsaKey.N.BitLen(); bits < minCARSABits {
		return nil, fmt.Errorf("RSA key has %d bits, fewer than the %d required: generate a new key with `ssh-keygen -t ed25519`", bits, minCARSABits)
	}
	algorithmSigner, ok := key.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("RSA key cannot choose its signature algorithm")
	}
	signer, err := ssh.NewSignerWithAlgorithms(algorithmSigner, []string{ssh.KeyAlgoRSASHA512})
	if err != nil {
		return nil, fmt.Errorf("restrict RSA key to %s: %w", ssh.KeyAlgoRSASHA512, err)
	}
	return signer, nil
}

func createCA(path string) (*SSHCA, error) {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("credentials: generate SSH CA key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(private, caKeyComment)
	if err != nil {
		return nil, fmt.Errorf("credentials: encode SSH CA key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), caDirMode); err != nil {
		return nil, fmt.Errorf("credentials: create folder for SSH CA key %s: %w", path, err)
	}

	created, err := writeNewFile(path, pem.EncodeToMemory(block), caPrivateKeyMode)
	if err != nil {
		return nil, fmt.Errorf("credentials: write SSH CA key %s: %w", path, err)
	}
	if !created {
		// Another process created the key first; use that one.
		return LoadOrCreateCA(path)
	}

	ca, err := parseCA(path, pem.EncodeToMemory(block))
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path+".pub", []byte(ca.AuthorizedKey()+"\n"), caPublicKeyMode); err != nil {
		return nil, fmt.Errorf("credentials: write SSH CA public key %s.pub: %w", path, err)
	}
	return ca, nil
}

// PublicKey returns the CA's public key.
func (ca *SSHCA) PublicKey() ssh.PublicKey { return ca.signer.PublicKey() }

// AuthorizedKey returns the CA's public key as one authorized_keys line
// without a newline, the form sshd's TrustedUserCAKeys file takes.
func (ca *SSHCA) AuthorizedKey() string {
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(ca.PublicKey())), "\n")
	return line + " " + caKeyComment
}

// Path returns the file the CA's private key was read from.
func (ca *SSHCA) Path() string { return ca.path }
