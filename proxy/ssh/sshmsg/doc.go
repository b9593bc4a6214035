// Package sshmsg decodes and encodes the payloads of the SSH connection
// protocol requests and channel-open messages that the jitgate SSH front
// door inspects, and bounds every field it reads.
//
// The layouts come from these sources:
//
//   - RFC 4254: pty-req 6.2, x11-req 6.3.1, env 6.4, shell, exec and
//     subsystem 6.5, window-change 6.7, signal 6.9, exit-status and
//     exit-signal 6.10, tcpip-forward 7.1, direct-tcpip and
//     forwarded-tcpip 7.2.
//   - RFC 4335: break.
//   - The OpenSSH PROTOCOL file, section 2.4: direct-streamlocal@openssh.com,
//     streamlocal-forward@openssh.com and forwarded-streamlocal@openssh.com.
//
// The package does no I/O and does not log. Each parser returns a value or
// an error that wraps ErrMalformed.
package sshmsg
