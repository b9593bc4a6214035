package recordings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
)

func TestFSCreateAndSeal(t *testing.T) {
	dir := t.TempDir()
	fs := NewFS(dir)
	fs.Clock = clock.NewFake(time.Date(2026, 3, 2, 23, 59, 0, 0, time.FixedZone("UTC-5", -5*3600)))

	f, err := fs.Create(KindSSH, 12, 1, "cast")
	mustNil(t, err)
	cast, err := NewCast(f, testCastHeader())
	mustNil(t, err)
	mustNil(t, cast.Output(at(time.Second), []byte("hello\r\n")))
	mustNil(t, cast.Close(at(time.Second)))

	path, sum, err := f.Seal()
	mustNil(t, err)

	wantPath := filepath.Join(dir, "2026", "03", "03", "ssh-12-1.cast") // the UTC day
	if path != wantPath {
		t.Errorf("path = %s, want %s", path, wantPath)
	}
	content, err := os.ReadFile(path)
	mustNil(t, err)
	digest := sha256.Sum256(content)
	if want := hex.EncodeToString(digest[:]); sum != want {
		t.Errorf("Seal hash = %s, want sha256 of the file %s", sum, want)
	}

	info, err := os.Stat(path)
	mustNil(t, err)
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %o, want 600", mode)
	}
	dayInfo, err := os.Stat(filepath.Dir(path))
	mustNil(t, err)
	if mode := dayInfo.Mode().Perm(); mode&0o077 != 0 {
		t.Errorf("day folder mode = %o, want no access for group and others", mode)
	}

	againPath, againSum, err := f.Seal()
	if err != nil || againPath != path || againSum != sum {
		t.Errorf("second Seal = %s, %s, %v; want the same path and hash and no error", againPath, againSum, err)
	}
	if _, err := f.Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Seal: err = %v, want ErrClosed", err)
	}
}

func TestFSCreateNeverOverwrites(t *testing.T) {
	fs := NewFS(t.TempDir())
	f, err := fs.Create(KindPostgres, 5, 0, "jsonl")
	mustNil(t, err)
	_, _, err = f.Seal()
	mustNil(t, err)

	if _, err := fs.Create(KindPostgres, 5, 0, "jsonl"); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Create of the same recording: err = %v, want os.ErrExist", err)
	}
}

func TestFSCreateRejectsBadNames(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		session int64
		channel int
		ext     string
	}{
		{"unknown kind", "rdp", 1, 0, "cast"},
		{"zero session", KindSSH, 0, 0, "cast"},
		{"negative channel", KindSSH, 1, -1, "cast"},
		{"empty extension", KindSSH, 1, 0, ""},
		{"extension with dot", KindSSH, 1, 0, ".cast"},
		{"extension with path", KindSSH, 1, 0, "cast/../../x"},
	}
	dir := t.TempDir()
	fs := NewFS(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fs.Create(tt.kind, tt.session, tt.channel, tt.ext); err == nil {
				t.Error("Create: got nil error")
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("rejected names left %d entries in the folder", len(entries))
	}
}
