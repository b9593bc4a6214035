package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// relaySubcommand is the first argument that turns this program into the
// minimal SSH relay. The harness starts the relay as a child process of
// its own, so the relay's CPU time and RSS can be read apart.
const relaySubcommand = "sshrelay"

// relayDialTimeout bounds the TCP connect and handshake to the target.
const relayDialTimeout = 10 * time.Second

// relayOptions configure the minimal relay.
type relayOptions struct {
	listen     string
	upstream   string
	login      string
	keyPath    string // private key for both the client check and the upstream login
	hostKeys   string // file of the target's host keys, authorized_keys format
	upCiphers  string // comma-separated upstream cipher preference
	clientAuth []byte // wire form of the one public key clients must present
}

// relayMain runs the minimal SSH relay until SIGTERM or SIGINT.
//
// The relay is the floor of full SSH termination: it authenticates the
// client, logs in to the target with its own key, and copies every
// channel both ways with golang.org/x/crypto/ssh, decrypting and
// encrypting each byte once per leg. It records nothing, checks no
// policy and keeps no state beyond the two connections.
func relayMain(args []string) error {
	fs := flag.NewFlagSet(relaySubcommand, flag.ContinueOnError)
	var o relayOptions
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&o.upstream, "upstream", "", "sshd address, host:port")
	fs.StringVar(&o.login, "login", "", "user to log in as upstream")
	fs.StringVar(&o.keyPath, "key", "", "private key: clients must present its public key, and the relay logs in upstream with it")
	fs.StringVar(&o.hostKeys, "host-keys", "", "file with the target's public host keys, one authorized_keys line each")
	fs.StringVar(&o.upCiphers, "upstream-ciphers", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", "upstream cipher preference, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.upstream == "" || o.login == "" || o.keyPath == "" || o.hostKeys == "" {
		return errors.New("sshrelay: -upstream, -login, -key and -host-keys are required")
	}

	serverConfig, clientConfig, err := o.configs()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("sshrelay: listen on %s: %w", o.listen, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	log.Info("relay listening", "addr", ln.Addr().String(), "upstream", o.upstream)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	context.AfterFunc(ctx, func() { ln.Close() })
	r := &relay{server: serverConfig, client: clientConfig, upstream: o.upstream, log: log}
	r.serve(ln)
	log.Info("relay stopped")
	return nil
}

// configs builds the server side (host key generated at start, one
// accepted client key) and the client side toward the target.
func (o *relayOptions) configs() (*ssh.ServerConfig, *ssh.ClientConfig, error) {
	keyPEM, err := os.ReadFile(o.keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("sshrelay: read -key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("sshrelay: parse -key %s: %w", o.keyPath, err)
	}
	o.clientAuth = signer.PublicKey().Marshal()
	hostKeys, err := readHostKeys(o.hostKeys)
	if err != nil {
		return nil, nil, err
	}

	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sshrelay: generate the host key: %w", err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, nil, fmt.Errorf("sshrelay: load the host key: %w", err)
	}
	server := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), o.clientAuth) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown public key")
		},
	}
	server.AddHostKey(hostSigner)

	client := &ssh.ClientConfig{
		User: o.login,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			for _, k := range hostKeys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil
				}
			}
			return fmt.Errorf("host key %s of %s is not in %s", ssh.FingerprintSHA256(key), o.upstream, o.hostKeys)
		},
		Timeout: relayDialTimeout,
	}
	client.Ciphers = strings.Split(o.upCiphers, ",")
	return server, client, nil
}

func readHostKeys(path string) ([]ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sshrelay: read -host-keys: %w", err)
	}
	var keys []ssh.PublicKey
	for len(bytes.TrimSpace(data)) > 0 {
		key, _, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			return nil, fmt.Errorf("sshrelay: parse -host-keys %s: %w", path, err)
		}
		keys = append(keys, key)
		data = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sshrelay: -host-keys %s has no key", path)
	}
	return keys, nil
}

// relay accepts client connections and pairs each with one upstream
// connection.
type relay struct {
	server   *ssh.ServerConfig
	client   *ssh.ClientConfig
	upstream string
	log      *slog.Logger
}

// serve accepts until ln is closed, then closes every connection and
// waits for their goroutines.
func (r *relay) serve(ln net.Listener) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.log.Error("accept failed; stopping", "err", err)
			}
			break
		}
		mu.Lock()
		conns[nc] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			r.handle(nc)
			mu.Lock()
			delete(conns, nc)
			mu.Unlock()
		})
	}
	mu.Lock()
	for nc := range conns {
		nc.Close()
	}
	mu.Unlock()
	wg.Wait()
}

// handle runs one client connection: handshake, upstream login, then the
// relay of global requests and channels until either side closes.
func (r *relay) handle(nc net.Conn) {
	defer nc.Close()
	log := r.log.With("client", nc.RemoteAddr().String())
	sconn, chans, reqs, err := ssh.NewServerConn(nc, r.server)
	if err != nil {
		log.Info("client handshake failed", "err", err)
		return
	}
	defer sconn.Close()

	uc, err := net.DialTimeout("tcp", r.upstream, relayDialTimeout)
	if err != nil {
		log.Error("upstream dial failed", "err", err)
		return
	}
	cconn, uchans, ureqs, err := ssh.NewClientConn(uc, r.upstream, r.client)
	if err != nil {
		uc.Close()
		log.Error("upstream login failed", "err", err)
		return
	}
	defer cconn.Close()

	// Either side ending ends the other.
	go func() {
		_ = cconn.Wait()
		sconn.Close()
	}()
	go ssh.DiscardRequests(ureqs)
	go rejectChannels(uchans)
	go forwardGlobalRequests(reqs, cconn)

	var wg sync.WaitGroup
	for newCh := range chans {
		wg.Go(func() { relayChannel(newCh, cconn, log) })
	}
	cconn.Close()
	wg.Wait()
}

// rejectChannels refuses channels that the target opens toward the
// client, such as forwarded-tcpip: the minimal relay forwards no ports.
func rejectChannels(chans <-chan ssh.NewChannel) {
	for ch := range chans {
		_ = ch.Reject(ssh.Prohibited, "the benchmark relay forwards no ports")
	}
}

// forwardGlobalRequests sends each client global request (keepalives,
// tcpip-forward) upstream and relays the reply.
func forwardGlobalRequests(reqs <-chan *ssh.Request, upstream ssh.Conn) {
	for req := range reqs {
		ok, payload, err := upstream.SendRequest(req.Type, req.WantReply, req.Payload)
		if err != nil {
			ok, payload = false, nil
		}
		if req.WantReply {
			_ = req.Reply(ok, payload)
		}
	}
}
