package sshproxy

import (
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"
)

// serverVersion is the identification string of the front door (RFC 4253
// section 4.2).
const serverVersion = "SSH-2.0-jitgate"

// keyExchanges are the key exchange methods of both legs: hybrid
// post-quantum and elliptic-curve Diffie-Hellman only. Finite-field groups
// and SHA-1 based methods are left out.
var keyExchanges = []string{
	ssh.KeyExchangeMLKEM768X25519,
	ssh.KeyExchangeCurve25519,
	ssh.KeyExchangeECDHP256,
	ssh.KeyExchangeECDHP384,
	ssh.KeyExchangeECDHP521,
}

// macs are the MACs of both legs; they apply only to the CTR ciphers,
// because AEAD ciphers carry their own tag. hmac-sha1 is left out.
var macs = []string{
	ssh.HMACSHA256ETM,
	ssh.HMACSHA512ETM,
	ssh.HMACSHA256,
	ssh.HMACSHA512,
}

// upstreamCiphers is the cipher preference toward targets: AES-GCM first,
// because it is the fastest cipher x/crypto implements on CPUs with AES
// instructions.
var upstreamCiphers = []string{
	ssh.CipherAES128GCM,
	ssh.CipherAES256GCM,
	ssh.CipherChaCha20Poly1305,
	ssh.CipherAES128CTR,
	ssh.CipherAES256CTR,
}

// checkCiphers returns an error naming the first cipher x/crypto does not
// implement securely.
func checkCiphers(ciphers []string) error {
	supported := ssh.SupportedAlgorithms().Ciphers
	for _, c := range ciphers {
		if !slices.Contains(supported, c) {
			return fmt.Errorf("sshproxy: ssh.ciphers lists %q, which is not supported; use some of %v", c, supported)
		}
	}
	return nil
}

// newServerConfig builds the front door's handshake settings. The
// authentication callbacks come from a.
func newServerConfig(ciphers []string, maxAuthTries int, hostKeys []ssh.Signer, a *authenticator) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		Config: ssh.Config{
			KeyExchanges: keyExchanges,
			Ciphers:      ciphers,
			MACs:         macs,
		},
		// SupportedAlgorithms leaves out ssh-rsa (SHA-1) signatures, which
		// OpenSSH 8.8 and later no longer send by default either.
		PublicKeyAuthAlgorithms: ssh.SupportedAlgorithms().PublicKeyAuths,
		MaxAuthTries:            maxAuthTries,
		PublicKeyCallback:       a.publicKey,
		AuthLogCallback:         a.logAttempt,
		ServerVersion:           serverVersion,
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

// newClientConfig builds the handshake settings toward a target.
func newClientConfig(login string, signer ssh.Signer, hostKeyCallback ssh.HostKeyCallback, hostKeyAlgorithms []string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		Config: ssh.Config{
			KeyExchanges: keyExchanges,
			Ciphers:      upstreamCiphers,
			MACs:         macs,
		},
		User:              login,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: hostKeyAlgorithms,
		ClientVersion:     serverVersion,
	}
}
