package safeio

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadFileLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "model.json")
	os.WriteFile(p, bytes.Repeat([]byte("x"), 1000), 0o644)
	if b, err := ReadFile(p, 1000); err != nil || len(b) != 1000 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	_, err := ReadFile(p, 999)
	var le *LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "model.json") || !strings.Contains(err.Error(), "999 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
	if got := (&LimitError{Path: "m.json", Limit: MaxJSON, What: "is"}).Error(); !strings.Contains(got, "64 MiB") {
		t.Errorf("limit message %q does not state the cap in MiB", got)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "absent"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestGzipBombRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 64 MiB")
	}
	dir := t.TempDir()
	// 200 MiB of zeros in about 200 KB: over 100x, over the 64 MiB floor.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 200 {
		zw.Write(zero)
	}
	zw.Close()
	p := filepath.Join(dir, "bomb.csv.gz")
	os.WriteFile(p, buf.Bytes(), 0o644)
	r, err := OpenData(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	var le *LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "bomb.csv.gz") || !strings.Contains(err.Error(), "decompresses to more than 64 MiB") {
		t.Fatalf("bomb: read %d bytes, err %v", n, err)
	}
	if n != MinDecompressed {
		t.Errorf("read %d bytes before refusing, want exactly the cap %d", n, MinDecompressed)
	}
	t.Logf("%d-byte gzip refused: %v", buf.Len(), err)
}

func TestGzipReadsAndReportsCorruption(t *testing.T) {
	dir := t.TempDir()
	text := []byte(strings.Repeat("a,b\n1,2\n", 1000))
	z := gz(t, text)
	p := filepath.Join(dir, "ok.csv.gz")
	os.WriteFile(p, z, 0o644)
	r, err := OpenData(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, text) {
		t.Fatalf("round trip: %d bytes, %v", len(got), err)
	}
	// An explicit cap at the exact size passes; one byte less fails.
	r, _ = OpenData(p, int64(len(text)))
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("cap at the size: %v", err)
	}
	r.Close()
	r, _ = OpenData(p, int64(len(text)-1))
	if _, err := io.ReadAll(r); err == nil {
		t.Errorf("cap one byte short: no error")
	}
	r.Close()
	cases := map[string][]byte{"trunc.csv.gz": z[:len(z)/2], "notgz.csv.gz": text, "flip.csv.gz": append(append([]byte(nil), z[:20]...), bytes.Repeat([]byte{0xff}, 40)...)}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		r, err := OpenData(p, 0)
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
	// Plain files pass through unchanged.
	plain := filepath.Join(dir, "plain.csv")
	os.WriteFile(plain, text, 0o644)
	r, _ = OpenData(plain, 0)
	if got, _ := io.ReadAll(r); !bytes.Equal(got, text) {
		t.Errorf("plain file changed")
	}
	r.Close()
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	if err := WriteFileAtomic(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An aborted write leaves the old content and no temporary file.
	f, err := Create(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half of the new"))
	f.Abort()
	f.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("after abort: %q", b)
	}
	if err := WriteFileAtomic(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after write: %q %v", b, st.Mode())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only out.csv", len(ents))
	}
	// A write into a missing folder fails without creating anything.
	if err := WriteFileAtomic(filepath.Join(dir, "no", "x"), nil, 0o644); err == nil {
		t.Error("write into a missing folder succeeded")
	}
	if f, _ := Create(p, 0o644); f != nil {
		f.Commit()
		if err := f.Commit(); err == nil {
			t.Error("second Commit succeeded")
		}
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	// A killed run: a temporary file made by Create, never committed.
	f, err := Create(filepath.Join(dir, "predictions.csv"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("partial"))
	f.File.Close() // the process dies here
	old := time.Now().Add(-time.Hour)
	os.Chtimes(f.Name(), old, old)
	fresh, _ := Create(filepath.Join(dir, "fresh.csv"), 0o644)
	defer fresh.Abort()
	keep := []string{"predictions.csv", ".hidden", "x.shen-tmp-1", "model.json"}
	for _, k := range keep {
		os.WriteFile(filepath.Join(dir, k), nil, 0o644)
		os.Chtimes(filepath.Join(dir, k), old, old)
	}
	os.Mkdir(filepath.Join(dir, ".d.shen-tmp-2"), 0o755)
	removed, err := CleanTemp(dir, time.Minute)
	if err != nil || len(removed) != 1 || removed[0] != f.Name() {
		t.Fatalf("CleanTemp removed %v, %v; want only %s", removed, err, f.Name())
	}
	for _, k := range append(keep, ".d.shen-tmp-2", filepath.Base(fresh.Name())) {
		if _, err := os.Stat(filepath.Join(dir, k)); err != nil {
			t.Errorf("%s was removed", k)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1 << 30: "1 GiB", 4096: "4 KiB", 1000: "1000 bytes"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
