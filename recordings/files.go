package recordings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
)

// Recording kinds, the first part of a recording's file name.
const (
	KindSSH      = "ssh"
	KindPostgres = "postgres"
)

// File and folder modes. Recordings can hold secrets typed at a prompt, so
// only the jitgate user may read them.
const (
	recordingFileMode = 0o600
	recordingDirMode  = 0o700
)

// extensionPattern limits file extensions to a plain word, so an extension
// can never add a path separator or "..".
var extensionPattern = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// FS stores recordings as files under one folder, in a subfolder per UTC
// day: DIR/YYYY/MM/DD/KIND-SESSION-CHANNEL.EXT.
type FS struct {
	dir string
	// Clock dates the day folders. Nil means the wall clock. Set it
	// before the first Create.
	Clock clock.Clock
}

// NewFS returns a store that keeps recordings under dir. The folder is
// created on the first Create.
func NewFS(dir string) *FS {
	return &FS{dir: dir}
}

// Create opens a new recording file for writing. kind is KindSSH or
// KindPostgres, channel numbers the SSH channel (0 for Postgres), and ext
// is the extension without a dot, such as "cast" or "jsonl". It fails when
// the file exists, so a recording is never overwritten.
func (s *FS) Create(kind string, sessionID int64, channel int, ext string) (*File, error) {
	if err := checkRecordingName(kind, sessionID, channel, ext); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	dayDir := filepath.Join(s.dir, now.Format("2006"), now.Format("01"), now.Format("02"))
	if err := os.MkdirAll(dayDir, recordingDirMode); err != nil {
		return nil, fmt.Errorf("recordings: create folder %s: %w", dayDir, err)
	}

	name := fmt.Sprintf("%s-%d-%d.%s", kind, sessionID, channel, ext)
	path := filepath.Join(dayDir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, recordingFileMode)
	if err != nil {
		return nil, fmt.Errorf("recordings: create recording %s: %w", path, err)
	}
	return &File{f: f, path: path, hash: sha256.New()}, nil
}

func (s *FS) now() time.Time {
	if s.Clock == nil {
		return clock.Real{}.Now()
	}
	return s.Clock.Now()
}

func checkRecordingName(kind string, sessionID int64, channel int, ext string) error {
	if kind != KindSSH && kind != KindPostgres {
		return fmt.Errorf("recordings: recording kind %q is invalid: use %q or %q", kind, KindSSH, KindPostgres)
	}
	if sessionID <= 0 {
		return fmt.Errorf("recordings: session id %d is invalid: it must be positive", sessionID)
	}
	if channel < 0 {
		return fmt.Errorf("recordings: channel %d is invalid: it must not be negative", channel)
	}
	if !extensionPattern.MatchString(ext) {
		return fmt.Errorf("recordings: file extension %q is invalid: use 1 to 16 lowercase letters or digits, without the dot", ext)
	}
	return nil
}

// File is one recording being written. It hashes every byte that reaches
// the file with SHA-256, so Seal can return the hash without reading the
// file back. Its methods are safe for concurrent use.
type File struct {
	path string

	// mu guards the fields below.
	mu     sync.Mutex
	f      *os.File
	hash   hash.Hash
	sealed bool
	sum    string
}

// Write appends p to the file and to the hash.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return 0, fmt.Errorf("recordings: write to %s: %w", f.path, ErrClosed)
	}
	n, err := f.f.Write(p)
	f.hash.Write(p[:n]) // a hash.Hash never returns an error
	if err != nil {
		return n, fmt.Errorf("recordings: write to %s: %w", f.path, err)
	}
	return n, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Seal flushes the file to disk, closes it and returns its path and the
// hex SHA-256 of its content. Later calls return the same path and hash
// without error, so several cleanup paths may each call Seal.
func (f *File) Seal() (path string, sha256hex string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		return f.path, f.sum, nil
	}
	f.sealed = true
	f.sum = hex.EncodeToString(f.hash.Sum(nil))

	syncErr := f.f.Sync()
	closeErr := f.f.Close()
	dirErr := syncDir(filepath.Dir(f.path))
	if err := errors.Join(syncErr, closeErr, dirErr); err != nil {
		return f.path, f.sum, fmt.Errorf("recordings: seal %s: %w", f.path, err)
	}
	return f.path, f.sum, nil
}

// syncDir flushes the folder entry of a new file, so the file survives a
// crash right after Seal.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
