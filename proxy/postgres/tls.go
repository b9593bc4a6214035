package postgres

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jitgate/jitgate/configs"
)

// Files of the self-signed certificate in the state folder.
const (
	selfSignedCertFile = "postgres-proxy.crt"
	selfSignedKeyFile  = "postgres-proxy.key"
)

// selfSignedValidity is how long a generated certificate is valid. It is
// meant for local use, where a year of running without renewal is enough.
const selfSignedValidity = 365 * 24 * time.Hour

// loadTLS returns the front door's TLS config, or nil when TLS is off:
// the configured certificate files, else with self_signed a certificate
// kept in stateDir and generated on first start.
func loadTLS(files configs.TLSFiles, stateDir string) (*tls.Config, error) {
	certFile, keyFile := files.CertFile, files.KeyFile
	switch {
	case certFile != "" || keyFile != "":
		if certFile == "" || keyFile == "" {
			return nil, errors.New("postgres: postgres.tls needs both cert_file and key_file")
		}
	case files.SelfSigned:
		if stateDir == "" {
			return nil, errors.New("postgres: postgres.tls.self_signed needs a state folder for the certificate: set Options.StateDir")
		}
		certFile = filepath.Join(stateDir, selfSignedCertFile)
		keyFile = filepath.Join(stateDir, selfSignedKeyFile)
		if err := ensureSelfSigned(certFile, keyFile); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("postgres: loading TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ensureSelfSigned writes a self-signed certificate and its key unless the
// certificate file exists.
func ensureSelfSigned(certFile, keyFile string) error {
	if _, err := os.Stat(certFile); err == nil {
		return nil
	}
	certPEM, keyPEM, err := newSelfSigned()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return fmt.Errorf("postgres: creating folder for the self-signed certificate: %w", err)
	}
	// The key first, so a certificate file never exists without its key.
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("postgres: writing TLS key %s: %w", keyFile, err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return fmt.Errorf("postgres: writing TLS certificate %s: %w", certFile, err)
	}
	return nil
}

// newSelfSigned returns a PEM certificate and key for localhost,
// 127.0.0.1, ::1 and this host's name. The certificate is its own CA, so a
// client can pass it as sslrootcert with sslmode=verify-full.
func newSelfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: generating TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: generating certificate serial number: %w", err)
	}

	names := []string{"localhost"}
	if host, err := os.Hostname(); err == nil && host != "" && host != "localhost" {
		names = append(names, host)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "jitgate postgres front door", Organization: []string{"jitgate self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: creating self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: encoding TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
