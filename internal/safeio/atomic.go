package safeio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempMark is in the name of every temporary file Create makes:
// ".<name>.shen-tmp-<random>", hidden, and recognisable by CleanTemp.
const tempMark = ".shen-tmp-"

// File is a file being written atomically: writes go to a temporary file
// next to the destination, which Commit renames into place. Until Commit,
// the destination keeps its old content (or stays absent).
type File struct {
	*os.File
	path string
	done bool
}

// Create starts an atomic write of path with permissions perm (subject
// to the umask). Call Commit to publish the content, or Abort (safe after
// Commit, so it can be deferred) to drop it.
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+tempMark+"*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs the temporary file, renames it to the destination and
// syncs the folder, so that after it returns the new content survives a
// crash. On error the temporary file is removed and the destination is as
// it was.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("write %s: already committed or aborted", f.path)
	}
	f.done = true
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("write %s: syncing its folder: %w", f.path, err)
	}
	return nil
}

// Abort drops the temporary file; the destination is untouched. It does
// nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFileAtomic writes b to path through Create and Commit: readers,
// and the file after a crash or a full disk, show the old content or the
// new, never a mix; a failed write leaves no temporary file behind.
func WriteFileAtomic(path string, b []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// syncDir makes a rename in dir durable. Folders that cannot be synced
// (some file systems, Windows) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isNotSupported(err) {
		return err
	}
	return nil
}

// IsTemp reports whether name (a base name) is a temporary file of Create.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
}

// CleanTemp removes the temporary files that Create left in dir (not its
// subfolders) when a run was killed before Commit or Abort, and returns
// the names it removed. Files modified within olderThan are kept, as they
// may belong to a write in progress in another process; only regular
// files are removed.
func CleanTemp(dir string, olderThan time.Duration) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	now := time.Now()
	for _, e := range ents {
		if !IsTemp(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < olderThan {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}
