package server

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
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Files and lifetime of the self-signed web certificate that
// web.tls.self_signed: true turns on. The pair is kept beside the state file so the
// fingerprint stays the same across restarts.
const (
	selfSignedCertFile = "web_tls_cert.pem"
	selfSignedKeyFile  = "web_tls_key.pem"
	selfSignedLifetime = 365 * 24 * time.Hour
)

// webTLS returns the TLS settings of the web listener, or nil for plain
// HTTP when web.tls is empty.
func (s *Server) webTLS() (*tls.Config, error) {
	files := s.cfg.Web.TLS
	var cert tls.Certificate
	var err error
	switch {
	case files.CertFile != "" || files.KeyFile != "":
		cert, err = tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("server: loading web.tls cert_file %s and key_file %s: %w", files.CertFile, files.KeyFile, err)
		}
	case files.SelfSigned:
		cert, err = s.selfSignedCert()
		if err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSignedCert loads the kept self-signed pair, or creates a new one
// when there is none or the kept one expires within a day.
func (s *Server) selfSignedCert() (tls.Certificate, error) {
	dir := filepath.Dir(s.cfg.State.Path)
	if s.cfg.State.Path == "" {
		dir = filepath.Dir(s.cfg.Path)
	}
	certPath, keyPath := filepath.Join(dir, selfSignedCertFile), filepath.Join(dir, selfSignedKeyFile)

	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil && cert.Leaf != nil && s.opts.Clock.Now().Add(24*time.Hour).Before(cert.Leaf.NotAfter) {
		return cert, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("server: loading the self-signed web certificate %s: %w; delete both %s and %s to make a new pair",
			certPath, err, selfSignedCertFile, selfSignedKeyFile)
	}

	certPEM, keyPEM, err := newSelfSigned(webHosts(s.cfg.Listen.Web, s.cfg.PublicURL), s.opts.Clock.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("server: writing %s: %w", keyPath, err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("server: writing %s: %w", certPath, err)
	}
	s.log.Info("created a self-signed web certificate", "cert_file", certPath)
	return tls.X509KeyPair(certPEM, keyPEM)
}

// webHosts lists the names the certificate must cover: the host of the
// listen address, the host of the public URL, and loopback when the
// listener binds every address.
func webHosts(listen, publicURL string) []string {
	var hosts []string
	if host, _, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			hosts = append(hosts, "localhost", "127.0.0.1", "::1")
		} else {
			hosts = append(hosts, host)
		}
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	return hosts
}

// newSelfSigned returns a PEM certificate and PKCS #8 key for hosts, on an
// ECDSA P-256 key, valid from now for selfSignedLifetime.
func newSelfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("server: generating a web TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("server: generating a certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "jitgate self-signed"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("server: creating the self-signed web certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("server: encoding the web TLS key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
