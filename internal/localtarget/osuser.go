package localtarget

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultLoginUser is the OS user that SSH logins go to when running as root.
const DefaultLoginUser = "jitgate-demo"

// postgresOSUser is the OS user PostgreSQL runs as when running as root,
// the name Debian's postgresql packages use.
const postgresOSUser = "postgres"

// useraddLockRetries and useraddLockDelay bound the retries of useradd while
// another process holds the lock on /etc/passwd, as parallel test packages do.
const (
	useraddLockRetries = 10
	useraddLockDelay   = 200 * time.Millisecond
)

// useradd exit codes, from useradd(8).
const (
	useraddExitCannotLock        = 1 // "can't update password file", also a busy lock
	useraddExitNameInUse         = 9
	useraddExitCannotUpdateGroup = 10
)

// useraddMu serializes useradd calls within this process.
var useraddMu sync.Mutex

// account is an OS user a server or a login runs as.
type account struct {
	name string
	uid  int
	gid  int
	home string
	// groupIDs holds the primary and supplementary group IDs, for folder
	// permission checks.
	groupIDs []int
}

func isRoot() bool { return os.Geteuid() == 0 }

func currentAccount() (account, error) {
	u, err := user.Current()
	if err != nil {
		return account{}, fmt.Errorf("look up the current OS user: %w", err)
	}
	return accountFromUser(u)
}

func lookupAccount(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, err
	}
	return accountFromUser(u)
}

func accountFromUser(u *user.User) (account, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("parse uid %q of OS user %s: %w", u.Uid, u.Username, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("parse gid %q of OS user %s: %w", u.Gid, u.Username, err)
	}
	acct := account{name: u.Username, uid: uid, gid: gid, home: u.HomeDir, groupIDs: []int{gid}}

	groups, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("look up the groups of OS user %s: %w", u.Username, err)
	}
	for _, g := range groups {
		id, err := strconv.Atoi(g)
		if err != nil {
			return account{}, fmt.Errorf("parse group id %q of OS user %s: %w", g, u.Username, err)
		}
		acct.groupIDs = append(acct.groupIDs, id)
	}
	return acct, nil
}

// ensureAccount looks up the OS user name and creates it with
// `useradd useraddArgs... name` when absent. Another process may create the
// same user at the same moment, so "name in use" counts as success.
func ensureAccount(name string, useraddArgs ...string) (account, error) {
	useraddMu.Lock()
	defer useraddMu.Unlock()

	acct, err := lookupAccount(name)
	if err == nil {
		return acct, nil
	}
	var unknown user.UnknownUserError
	if !errors.As(err, &unknown) {
		return account{}, fmt.Errorf("look up OS user %s: %w", name, err)
	}

	args := append(append([]string{}, useraddArgs...), name)
	var out []byte
	for attempt := 1; ; attempt++ {
		out, err = exec.Command("useradd", args...).CombinedOutput()
		if err == nil {
			break
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code := exitErr.ExitCode()
			if code == useraddExitNameInUse {
				break // the lookup below separates a user from a group of that name
			}
			lockBusy := code == useraddExitCannotLock || code == useraddExitCannotUpdateGroup
			if lockBusy && attempt < useraddLockRetries {
				time.Sleep(useraddLockDelay)
				continue
			}
		}
		return account{}, fmt.Errorf("create OS user %s with useradd %s: %w: %s",
			name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}

	acct, err = lookupAccount(name)
	if err != nil {
		return account{}, fmt.Errorf("OS user %s not found after useradd %s (output %q): %w",
			name, strings.Join(args, " "), strings.TrimSpace(string(out)), err)
	}
	return acct, nil
}

// postgresAccount returns the OS user PostgreSQL runs as: "postgres" when
// running as root, because PostgreSQL refuses root, and the current user
// otherwise.
func postgresAccount() (account, error) {
	if !isRoot() {
		return currentAccount()
	}
	return ensureAccount(postgresOSUser, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin")
}

// EnsureLoginUser returns the uid and home folder of the OS user that SSH
// logins to the local sshd go to.
//
// As root it uses name (DefaultLoginUser when empty) and creates it with
// `useradd -m -s /bin/bash` when absent, so the home folder exists and the
// user owns it. The password field is set to "*", meaning no password login,
// because sshd with UsePAM no rejects every login to an account whose
// password is locked ("!", the useradd default). Not as root it returns the
// current user, whatever name is, because an unprivileged sshd can only log
// in its own user.
func EnsureLoginUser(name string) (uid int, home string, err error) {
	acct, err := loginAccount(name)
	if err != nil {
		return 0, "", err
	}
	return acct.uid, acct.home, nil
}

func loginAccount(name string) (account, error) {
	if !isRoot() {
		return currentAccount()
	}
	if name == "" {
		name = DefaultLoginUser
	}
	if name == "root" {
		return account{}, fmt.Errorf("login user %q is not allowed: SSH logins go to a dedicated OS user, such as %s", name, DefaultLoginUser)
	}

	acct, err := ensureAccount(name, "--create-home", "--shell", "/bin/bash", "--password", "*")
	if err != nil {
		return account{}, err
	}
	if acct.uid == 0 {
		return account{}, fmt.Errorf("login user %s has uid 0: choose a user that is not root", name)
	}

	locked, err := passwordLocked(name)
	if err != nil {
		return account{}, err
	}
	if locked {
		return account{}, fmt.Errorf("login user %s has a locked password, so sshd with UsePAM no rejects every login to it: run `usermod -p '*' %s` (no password login, not locked)", name, name)
	}
	return acct, nil
}

// passwordLocked reports whether /etc/shadow marks the password of name as
// locked with a leading "!", which OpenSSH's allowed_user check rejects.
func passwordLocked(name string) (bool, error) {
	const shadowPath = "/etc/shadow"
	f, err := os.Open(shadowPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s to check the login user %s: %w", shadowPath, name, err)
	}
	defer f.Close()

	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.SplitN(scanner.Text(), ":", 3)
		if len(fields) >= 2 && fields[0] == name {
			return strings.HasPrefix(fields[1], "!"), nil
		}
	}
	if err := scanner.Err(); err != nil {
		return false, fmt.Errorf("read %s to check the login user %s: %w", shadowPath, name, err)
	}
	return false, nil
}

// credential returns the SysProcAttr credential to run a child as acct, or
// nil when acct is the current user.
func (a account) credential() *syscall.Credential {
	if a.uid == os.Geteuid() {
		return nil
	}
	return &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
}

// chown gives path to acct when this process runs as another user.
func (a account) chown(path string) error {
	if a.uid == os.Geteuid() {
		return nil
	}
	if err := os.Lchown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("give %s to OS user %s: %w", path, a.name, err)
	}
	return nil
}
