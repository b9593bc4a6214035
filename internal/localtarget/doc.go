// Package localtarget runs real PostgreSQL and OpenSSH sshd servers on
// loopback, for `jitgate demo` and for tests that need a real target behind
// the proxy.
//
// Every server listens on 127.0.0.1 only, on a random free port unless the
// options fix one, and this package dials nothing else. Each server is
// started directly (not daemonized) so that Stop can end it by the PID this
// package started. PostgreSQL runs with fsync, synchronous_commit and
// full_page_writes off: a crash can lose or corrupt its data, which is fine
// for throwaway demo and test clusters and wrong for anything else.
//
// # Running as root
//
// PostgreSQL refuses to run as root, and sshd reads AuthorizedKeysFile with
// the login user's rights. So when the euid is 0, PostgreSQL runs as the OS
// user "postgres", and SSH logins go to a dedicated login user (see
// EnsureLoginUser). Both users are created with useradd when absent.
//
// Such a service user must be able to traverse every folder above its
// files. This package may add o+x to the Dir it is given, but it never
// changes the folders above Dir. When one of them is closed to the service
// user, as a 0700 folder from os.MkdirTemp or t.TempDir is, the server's
// files go to a fresh folder under the system temp folder instead, and
// Stop removes that folder. The DataDir, LogPath and similar fields always
// name the real location.
//
// When the euid is not 0, both servers run as the current user and logins
// go to that user.
package localtarget
