package localtarget

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// serverCertValidity is how long the self-signed server certificate is
// valid, long enough for a demo left running for months.
const serverCertValidity = 365 * 24 * time.Hour

// selfSignedCert is a PEM certificate and its PEM private key.
type selfSignedCert struct {
	certPEM []byte
	keyPEM  []byte
}

// newSelfSignedCert creates an ECDSA P-256 certificate for 127.0.0.1, ::1
// and localhost that signs itself. It is marked as a CA, like the output of
// `openssl req -x509`, so clients can trust it as its own root with
// sslmode=verify-full.
func newSelfSignedCert() (selfSignedCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return selfSignedCert{}, fmt.Errorf("generate the TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return selfSignedCert{}, fmt.Errorf("generate the TLS certificate serial number: %w", err)
	}

	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: loopbackHost, Organization: []string{"jitgate local target"}},
		NotBefore:             now.Add(-time.Hour), // tolerate a client clock slightly behind
		NotAfter:              now.Add(serverCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP(loopbackHost), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return selfSignedCert{}, fmt.Errorf("create the TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return selfSignedCert{}, fmt.Errorf("encode the TLS key: %w", err)
	}

	return selfSignedCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}
