package testenv

import (
	"context"
	"testing"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// SSHD starts OpenSSH sshd for this test and stops it, with the sessions
// it serves, when the test ends. An empty opts.Dir becomes a folder from
// TempDir. As root, logins go to the OS user opts.Login, by default
// localtarget.DefaultLoginUser, which is created when absent.
func SSHD(t testing.TB, opts localtarget.SSHDOptions) *localtarget.SSHD {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = TempDir(t)
	}

	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	s, err := localtarget.StartSSHD(ctx, opts)
	if err != nil {
		failStart(t, "sshd", err, localtarget.ErrSSHDNotInstalled)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop sshd on %s: %v", s.Addr, err)
		}
	})
	logOnFailure(t, "sshd", s.LogPath, s.ReadLog)
	return s
}
