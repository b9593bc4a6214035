// Package sshproxy is the SSH front door of jitgate. Engineers run stock
// OpenSSH against it:
//
//	ssh -p 2222 deploy@web-1@jitgate.example.com
//
// OpenSSH splits the user from the host at the last "@", so the SSH user
// is "deploy@web-1": login deploy on target web-1. The front door
// authenticates the person by public key: a key listed for a user in the
// config, or a user certificate from a configured login CA. It holds the
// connection until an approver grants access, and connects to the target's
// sshd with a certificate that expires at the end of the granted window.
// It relays the session, records the terminal, and closes the connection
// when the window ends or the grant is revoked.
//
// # Where the hold is shown
//
// The hold starts at the first thing that needs the target: the first
// shell, exec or subsystem request of a session channel, or the first
// forwarding request. The request id and the approval link are written to
// the stderr stream of that session channel (SSH extended data type 1).
// Measured with OpenSSH 9.2p1: such lines are printed by `ssh host`,
// `ssh host cmd`, `ssh -o BatchMode=yes`, `ssh -q`, `ssh -o LogLevel=ERROR`,
// scp in both SFTP and legacy mode, sftp, rsync and git, also before the
// run request gets its reply. An SSH_MSG_USERAUTH_BANNER sent during
// authentication is dropped by `ssh -q` and LogLevel ERROR, and a
// keyboard-interactive round is skipped by BatchMode clients, so neither
// is used. Waiting after authentication also keeps OpenSSH keepalives and
// window changes flowing while the connection waits. A connection that
// opens no session channel (`ssh -N -L ...`) waits at its first forward
// without seeing the request id; `jitgate request` covers that case.
//
// # Request details
//
// A new request takes its reason, ticket and other details from
// environment variables that the client sends with the session. OpenSSH
// sends them with SetEnv, which takes quoted values (checked with 9.2p1):
//
//	ssh -o SetEnv="JITGATE_REASON='disk full on /var' JITGATE_TICKET=INC-42" deploy@web-1@jitgate
//
// The variables are JITGATE_REASON, JITGATE_TICKET, JITGATE_TRIGGER,
// JITGATE_DURATION (such as 30m), JITGATE_CONTRACT (a contract id) and
// JITGATE_BREAK_GLASS (yes to use a break-glass term). They are read by
// jitgate and never sent to the target. When the session has a terminal
// and no reason was sent, the front door prompts for one on the terminal
// (and for a ticket or trigger when the contract requires them) before it
// opens the request.
//
// A rejection (denied, expired, unknown target, login outside the person's
// scope, missing details) is one line on stderr and exit status 1, and
// nothing is opened upstream. A failure after the session started (the
// target is unreachable, the window ended, the grant was revoked) closes
// the channels without an exit status, so OpenSSH exits with 255 as it
// does when a direct connection drops.
//
// # Protocol sources
//
// Channel handling follows RFC 4254 (connection protocol), with RFC 4335
// for break, the OpenSSH PROTOCOL file for eow@openssh.com and streamlocal
// forwarding, and OpenSSH PROTOCOL.agent for agent forwarding. Upstream
// certificates follow OpenSSH PROTOCOL.certkeys. Strict key exchange
// (kex-strict-s-v00@openssh.com on the front door, kex-strict-c-v00 toward
// the target) is built into golang.org/x/crypto/ssh, which jitgate uses at
// v0.59.0; TestStrictKeyExchangeAndRekey checks both legs. Message payloads
// are decoded by the sub-package sshmsg.
//
// # Ciphers
//
// The front door offers the ciphers of the config's ssh.ciphers. The
// client's order picks among the ciphers both sides offer (RFC 4253
// section 7.1), and OpenSSH 9.2 lists chacha20-poly1305@openssh.com, then
// the CTR modes, then AES-GCM (`ssh -G`). x/crypto has no amd64 assembly
// for ChaCha20, so that default choice costs jitgate about 1.4 s more CPU
// per GiB than aes128-gcm@openssh.com in the benchmark. The default list
// still offers it, for clients without AES-GCM; docs/configuration.md
// (Ciphers) has the measurements and how an operator offers only AES-GCM.
// The upstream client always prefers AES-GCM.
package sshproxy
