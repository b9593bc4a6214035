package localtarget

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// baseDir is the folder a server keeps its files in.
type baseDir struct {
	path string
	// temporary is true when this package created path, either because the
	// caller gave no Dir or because the given Dir was unusable, so Stop
	// removes it.
	temporary bool
}

// remove deletes the folder when this package created it.
func (d baseDir) remove() error {
	if !d.temporary {
		return nil
	}
	if err := os.RemoveAll(d.path); err != nil {
		return fmt.Errorf("remove temporary folder %s: %w", d.path, err)
	}
	return nil
}

// prepareBaseDir returns the folder for a server's files, based on dir.
//
// service names the server ("postgres", "sshd") in temporary folder names.
// acct is the OS user that must reach the folder. pathSuffixMax is the
// length of the longest path the server appends to the folder, and
// pathMax the longest path it accepts (a unix socket path, say); 0 means
// no limit.
//
// It uses dir itself when acct can traverse every folder above dir and the
// longest path fits, and adds o+x to dir itself when acct needs it. It
// never changes the folders above dir. Otherwise, and when dir is empty, it
// creates a temporary folder under the system temp folder.
func prepareBaseDir(dir, service string, acct account, pathSuffixMax, pathMax int) (baseDir, error) {
	if dir != "" {
		usable, err := usableAsBaseDir(dir, acct, pathSuffixMax, pathMax)
		if err != nil {
			return baseDir{}, err
		}
		if usable {
			return baseDir{path: dir}, nil
		}
	}

	parents := []string{os.TempDir(), "/tmp"}
	for _, parent := range parents {
		if !canTraverseAll(parent, acct) {
			continue
		}
		path, err := os.MkdirTemp(parent, "jitgate-"+service+"-")
		if err != nil {
			return baseDir{}, fmt.Errorf("create a temporary folder for %s under %s: %w", service, parent, err)
		}
		d := baseDir{path: path, temporary: true}
		if pathMax > 0 && len(path)+pathSuffixMax > pathMax {
			_ = d.remove()
			continue
		}
		if err := openForTraversal(path, acct); err != nil {
			_ = d.remove()
			return baseDir{}, err
		}
		return d, nil
	}
	return baseDir{}, fmt.Errorf("no folder for %s: neither Dir %q nor the temp folders %v can be reached by OS user %s within %d bytes: set TMPDIR to a short folder that others can traverse (mode o+x), such as /tmp",
		service, dir, parents, acct.name, pathMax)
}

// usableAsBaseDir creates dir when missing and reports whether acct can use it.
func usableAsBaseDir(dir string, acct account, pathSuffixMax, pathMax int) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create folder %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false, fmt.Errorf("resolve folder %s: %w", dir, err)
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return false, fmt.Errorf("resolve folder %s: %w", dir, err)
	}

	if pathMax > 0 && len(real)+pathSuffixMax > pathMax {
		return false, nil
	}
	if real != "/" && !canTraverseAll(filepath.Dir(real), acct) {
		return false, nil
	}
	if err := openForTraversal(real, acct); err != nil {
		return false, err
	}
	return true, nil
}

// openForTraversal adds o+x to dir when acct cannot traverse it yet.
func openForTraversal(dir string, acct account) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat folder %s: %w", dir, err)
	}
	if canTraverse(info, acct) {
		return nil
	}
	if err := os.Chmod(dir, info.Mode().Perm()|0o001); err != nil {
		return fmt.Errorf("let OS user %s traverse folder %s (chmod o+x): %w", acct.name, dir, err)
	}
	return nil
}

// canTraverseAll reports whether acct can traverse dir and every folder
// above it, judged by the mode bits that apply to acct.
func canTraverseAll(dir string, acct account) bool {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return false
	}
	for {
		info, err := os.Stat(real)
		if err != nil || !canTraverse(info, acct) {
			return false
		}
		parent := filepath.Dir(real)
		if parent == real {
			return true
		}
		real = parent
	}
}

// canTraverse applies the kernel's rule for the search permission: the
// owner bits when acct owns the folder, else the group bits when one of
// acct's groups owns it, else the other bits. Root passes every check.
func canTraverse(info os.FileInfo, acct account) bool {
	if acct.uid == 0 {
		return true
	}
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	mode := info.Mode().Perm()
	switch {
	case int(stat.Uid) == acct.uid:
		return mode&0o100 != 0
	case slices.Contains(acct.groupIDs, int(stat.Gid)):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}
