package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shenml/shen/internal/hostile"
	"github.com/shenml/shen/internal/safeio"
)

// put writes b as dir/name.
func put(name string, b []byte) func(testing.TB, string) {
	return func(t testing.TB, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// putSpecial makes dir/name a FIFO, a link to /dev/zero, a folder, a
// dangling link or a sparse file of size bytes.
func putSpecial(name, kind string, size int64) func(testing.TB, string) {
	return func(t testing.TB, dir string) {
		p := filepath.Join(dir, name)
		var err error
		switch kind {
		case "fifo":
			err = syscall.Mkfifo(p, 0o644)
		case "zero":
			err = os.Symlink("/dev/zero", p)
		case "dir":
			err = os.Mkdir(p, 0o755)
		case "dangling":
			err = os.Symlink(filepath.Join(dir, "nowhere"), p)
		case "sparse":
			var f *os.File
			if f, err = os.Create(p); err == nil {
				err = f.Truncate(size)
				f.Close()
			}
		}
		if err != nil {
			t.Skip("cannot make a special file here:", err)
		}
	}
}

// gzBomb is a gzip stream of head then mib MiB of unit repeated.
func gzBomb(head, unit []byte, mib int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(head)
	block := bytes.Repeat(unit, (1<<20)/len(unit))
	for range mib {
		zw.Write(block)
	}
	zw.Close()
	return buf.Bytes()
}

// hugePNG is a valid 1x1 PNG whose header is rewritten to declare w x h
// pixels (with a correct checksum), as a decompression-bomb image would.
func hugePNG(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR: length at 8, type at 12, width at 16, height at 20, CRC at 29.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func idxHeader(dims ...uint32) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// dataHostileCases is the corpus of hostile data files for the readers
// and the fitted-artifact loaders of package data.
func dataHostileCases() []hostile.Case {
	// Decompression caps: 4 MiB, an eighth of that in -short runs, which
	// CI runs under the race detector.
	capBytes := int64(4 << 20)
	if testing.Short() {
		capBytes /= 8
	}
	csvOpts := CSVOptions{MaxDecompressed: capBytes}
	readCSV := func(name string) func(string) error {
		return func(dir string) error { _, err := ReadCSV(filepath.Join(dir, name), csvOpts); return err }
	}
	jsonlOpts := CSVOptions{MaxDecompressed: capBytes}
	readJSONL := func(name string) func(string) error {
		return func(dir string) error { _, err := ReadJSONL(filepath.Join(dir, name), jsonlOpts); return err }
	}
	readIDX := func(name string) func(string) error {
		return func(dir string) error { _, err := ReadIDX(filepath.Join(dir, name)); return err }
	}
	readText := func(name string) func(string) error {
		return func(dir string) error { _, err := ReadText(filepath.Join(dir, name), capBytes); return err }
	}
	stream := func(name string) func(string) error {
		return func(dir string) error {
			s, err := NewCSVStream(filepath.Join(dir, name), StreamOptions{CSV: csvOpts, Features: []string{"a"}, Target: "b", BatchSize: 64})
			if err != nil {
				return err
			}
			for _, err := range s.Epoch(0) {
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	loadJSON := map[string]func(string) error{
		"pipeline.json": func(p string) error { _, err := LoadPipeline(p); return err },
		"profile.json":  func(p string) error { _, err := LoadProfile(p); return err },
		"vocab.json":    func(p string) error { _, err := LoadVocab(p); return err },
	}
	long := strings.Repeat("z", longLine())
	var cs []hostile.Case
	c := func(name string, mk func(testing.TB, string), run func(string) error, culprit ...string) {
		cs = append(cs, hostile.Case{Name: name, Make: mk, Run: run, Culprit: culprit})
	}
	// Tabular text: truncations, mismatches, bad values.
	for _, tc := range []struct{ name, text string }{
		{"unterminated quote", "a,b\n1,\"x\n"},
		{"ragged row", "a,b\n1,2\n3\n"},
		{"duplicate header", "a,a\n1,2\n"},
		{"all-NUL line", "a,b\n" + strings.Repeat("\x00", 1<<20) + "\n"},
		{"10 MB field", "a,b\n1," + long + "\n"},
		{"invalid UTF-8 label", "a,b\n1,caf\xe9\n"},
		{"invalid UTF-8 header", "a,\xff\n1,2\n"},
		{"quote in bare field", "a,b\n1,x\"y\n"},
	} {
		c("csv: "+tc.name, put("t.csv", []byte(tc.text)), readCSV("t.csv"), "t.csv")
	}
	forceNum := func(text string) func(string) error {
		return func(dir string) error {
			_, err := ReadCSV(filepath.Join(dir, "n.csv"), CSVOptions{Types: map[string]ColumnType{"b": Numeric}})
			return err
		}
	}
	for _, tc := range []struct{ name, cell, culprit string }{
		{"Inf", "Inf", "infinite"}, {"-Infinity", "-Infinity", "infinite"}, {"1e39", "1e39", "float32"},
		{"1e400", "1e400", "float32"}, {"hex float", "0x1p200", "float32"},
		{"10 MB number", "1" + strings.Repeat("0", longLine()), "1 MiB"},
	} {
		text := "a,b\n1,2\n3," + tc.cell + "\n"
		c("csv numeric: "+tc.name, put("n.csv", []byte(text)), forceNum(text), "n.csv:3:2", `"b"`, tc.culprit)
		c("csv inferred: "+tc.name, put("n.csv", []byte("a,b\n1,2\n3,"+tc.cell+"\n")), readCSV("n.csv"), "n.csv:3:2", `"b"`)
	}
	c("tsv: ragged row", put("t.tsv", []byte("a\tb\n1\t2\n3\n")), readCSV("t.tsv"), "t.tsv:3")
	c("csv.gz: invalid UTF-8 inside", put("u.csv.gz", gzipBytes([]byte("a,b\n1,\xff\xfe\n"))), readCSV("u.csv.gz"), "u.csv.gz:2:2", "UTF-8")
	c("stream: Inf in a feature", put("s.csv", []byte("a,b\n1,2\nInf,3\n")), stream("s.csv"), "s.csv:3", "infinite")
	c("stream: ragged row", put("s.csv", []byte("a,b\n1,2\n3\n")), stream("s.csv"), "s.csv:3")
	c("stream: 10 MB field", put("s.csv", []byte("a,b\n1,"+long+"\n")), stream("s.csv"), "s.csv:2:2", "1 MiB")
	c("csv: Types names an absent column", put("t.csv", []byte("a,b\n1,2\n")), func(dir string) error {
		_, err := ReadCSV(filepath.Join(dir, "t.csv"), CSVOptions{Types: map[string]ColumnType{"zz": Numeric}})
		return err
	}, "t.csv", "zz")
	// Compression: bombs, truncation, lies.
	c("csv.gz bomb", put("b.csv.gz", gzBomb([]byte("a,b\n"), []byte("1,2\n"), 8)), readCSV("b.csv.gz"), "b.csv.gz", "decompresses to more than "+safeio.FormatBytes(capBytes))
	c("tsv.gz bomb", put("b.tsv.gz", gzBomb([]byte("a\tb\n"), []byte("1\t2\n"), 8)), readCSV("b.tsv.gz"), "b.tsv.gz", "decompresses")
	c("csv.gz bomb of NULs", put("z.csv.gz", gzBomb(nil, []byte{0}, 8)), readCSV("z.csv.gz"), "z.csv.gz")
	c("csv.gz bomb streamed", put("s.csv.gz", gzBomb([]byte("a,b\n"), []byte("1,2\n"), 8)), stream("s.csv.gz"), "s.csv.gz", "decompresses")
	c("jsonl.gz bomb", put("b.jsonl.gz", gzBomb(nil, []byte("{\"a\":1}\n"), 8)), readJSONL("b.jsonl.gz"), "b.jsonl.gz", "decompresses to more than "+safeio.FormatBytes(capBytes))
	c("txt.gz bomb", put("c.txt.gz", gzBomb(nil, []byte("lol "), 8)), readText("c.txt.gz"), "c.txt.gz", "decompresses")
	c("idx.gz bomb behind a small header", put("i.gz", gzBomb(idxHeader(10), []byte{0}, 8)), readIDX("i.gz"), "i.gz", "extra bytes")
	c("csv.gz truncated", put("t.csv.gz", gzBomb([]byte("a,b\n"), []byte("1,2\n"), 1)[:200]), readCSV("t.csv.gz"), "t.csv.gz", "gzip")
	c("csv.gz not gzip", put("p.csv.gz", []byte("a,b\n1,2\n")), readCSV("p.csv.gz"), "p.csv.gz", "gzip")
	c("txt.gz not gzip", put("p.txt.gz", []byte("plain text")), readText("p.txt.gz"), "p.txt.gz", "gzip")
	// JSON Lines.
	for _, tc := range []struct{ name, text, culprit string }{
		{"nested object", "{\"a\":{\"b\":1}}\n", ":1"},
		{"duplicate key", "{\"a\":1,\"a\":2}\n", ":1"},
		{"invalid UTF-8", "{\"a\":\"caf\xe9\"}\n", "UTF-8"},
		{"Infinity string", "{\"a\":1}\n{\"a\":\"Infinity\"}\n", ":2"},
		{"number beyond float64", "{\"a\":1}\n{\"a\":1e400}\n", ":2"},
		{"truncated object", "{\"a\":1}\n{\"a\":\n", ":2"},
		{"100k-deep array", "{\"a\":" + strings.Repeat("[", 100000) + "}\n", ":1"},
		{"all-NUL line", strings.Repeat("\x00", 1<<20) + "\n", ":1"},
		{"array at top level", "[1,2]\n", ":1"},
		{"10 MB string", "{\"a\":\"" + long + "\"}\n", "1 MiB"},
	} {
		c("jsonl: "+tc.name, put("t.jsonl", []byte(tc.text)), readJSONL("t.jsonl"), "t.jsonl", tc.culprit)
	}
	// IDX: lying and truncated headers.
	c("idx: header declares 4G elements", put("l.idx", append(idxHeader(65535, 65535), 1, 2, 3)), readIDX("l.idx"), "l.idx", "truncated")
	c("idx: dimensions overflow", put("o.idx", idxHeader(1<<31, 1<<31, 1<<31)), readIDX("o.idx"), "o.idx", "more than")
	c("idx: zero dimensions", put("z.idx", idxHeader()), readIDX("z.idx"), "z.idx", "0 dimensions")
	c("idx: float type", put("f.idx", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}), readIDX("f.idx"), "f.idx", "0x0d")
	c("idx: truncated header", put("t.idx", []byte{0, 0, 8}), readIDX("t.idx"), "t.idx", "truncated")
	c("idx: truncated data", put("d.idx", append(idxHeader(5), 1, 2)), readIDX("d.idx"), "d.idx", "truncated IDX data")
	c("idx: extra bytes", put("e.idx", append(idxHeader(2), 1, 2, 3)), readIDX("e.idx"), "e.idx", "extra bytes")
	// Images: a header declaring 40 GB of pixels, a truncated file.
	loadImg := func(name string) func(string) error {
		return func(dir string) error { _, err := LoadImage(filepath.Join(dir, name), 1, 8, 8); return err }
	}
	c("image: PNG declares 100000x100000", put("big.png", hugePNG(100000, 100000)), loadImg("big.png"), "big.png", "100000x100000")
	c("image: PNG declares 2^31 x 2", put("wide.png", hugePNG(1<<31-1, 2)), loadImg("wide.png"), "wide.png")
	c("image: truncated PNG", put("t.png", hugePNG(1, 1)[:40]), loadImg("t.png"), "t.png")
	c("image: not an image", put("n.png", []byte("a,b\n1,2\n")), loadImg("n.png"), "n.png")
	// Text corpora.
	c("text: invalid UTF-8", put("c.txt", []byte("ok\n\xc3\x28 bad\n")), readText("c.txt"), "c.txt:2:1", "UTF-8")
	c("text: over the cap", putSpecial("big.txt", "sparse", 5<<20), readText("big.txt"), "big.txt")
	// Special files for every reader, and the JSON loaders' caps.
	for _, kind := range []string{"fifo", "zero", "dir", "dangling"} {
		c("image is "+kind, putSpecial("s.png", kind, 0), loadImg("s.png"), "s.png")
		c("csv is "+kind, putSpecial("s.csv", kind, 0), readCSV("s.csv"), "s.csv")
		c("jsonl is "+kind, putSpecial("s.jsonl", kind, 0), readJSONL("s.jsonl"), "s.jsonl")
		c("idx is "+kind, putSpecial("s.idx", kind, 0), readIDX("s.idx"), "s.idx")
		c("text is "+kind, putSpecial("s.txt", kind, 0), readText("s.txt"), "s.txt")
		c("stream is "+kind, putSpecial("s.csv", kind, 0), stream("s.csv"), "s.csv")
		for name, load := range loadJSON {
			c(name+" is "+kind, putSpecial(name, kind, 0), func(dir string) error { return load(filepath.Join(dir, name)) }, name)
		}
	}
	for name, load := range loadJSON {
		c(name+" over 64 MiB", putSpecial(name, "sparse", 65<<20), func(dir string) error { return load(filepath.Join(dir, name)) }, name, "64 MiB")
		c(name+" truncated", put(name, []byte(`{"version": 1, "steps": [`)), func(dir string) error { return load(filepath.Join(dir, name)) }, name)
		c(name+" 100k-deep", put(name, []byte(strings.Repeat("[", 100000))), func(dir string) error { return load(filepath.Join(dir, name)) }, name)
	}
	pipe := func(steps string) []byte {
		return []byte(`{"version":1,"fitted":true,"inputs":[{"name":"d","type":"categorical"}],"outputs":["d_year"],"steps":[` + steps + `]}`)
	}
	c("pipeline: dates step without layouts", put("pipeline.json", pipe(`{"kind":"dates","columns":["d"]}`)),
		func(dir string) error { _, err := LoadPipeline(filepath.Join(dir, "pipeline.json")); return err }, "pipeline.json", "dates")
	c("pipeline: dates step with zero year_std", put("pipeline.json", pipe(`{"kind":"dates","columns":["d"],"layouts":["2006-01-02"],"hour":[false],"year_mean":[2000],"year_std":[0]}`)),
		func(dir string) error { _, err := LoadPipeline(filepath.Join(dir, "pipeline.json")); return err }, "pipeline.json", "year_std")
	c("pipeline: outputs that the steps do not make", put("pipeline.json", pipe(`{"kind":"dates","columns":["d"],"layouts":["2006-01-02"],"hour":[false],"year_mean":[2000],"year_std":[1]}`)),
		func(dir string) error { _, err := LoadPipeline(filepath.Join(dir, "pipeline.json")); return err }, "pipeline.json", "inconsistent")
	// Path escapes: a planted link where an output goes is replaced, never
	// written through; a missing folder is an error with no stray file.
	cs = append(cs, hostile.Case{Name: "save over a link to outside", Out: "out", Succeeds: true,
		Make: func(t testing.TB, dir string) {
			if err := os.Symlink(filepath.Join(dir, "..", "outside", "canary"), filepath.Join(dir, "out", "pipeline.json")); err != nil {
				t.Skip(err)
			}
		},
		Run: func(dir string) error { return NewPipeline().Save(filepath.Join(dir, "out", "pipeline.json")) }})
	c("save into a missing folder", func(testing.TB, string) {}, func(dir string) error {
		return NewPipeline().Save(filepath.Join(dir, "missing", "pipeline.json"))
	}, "pipeline.json")
	c("read a path that escapes with ..", func(testing.TB, string) {}, readCSV(filepath.Join("..", "outside", "..", "..", "nowhere.csv")), "nowhere.csv")
	return cs
}

// longLine is the length of the long-line cases: 10 MB, or 2 MiB (still
// past MaxValueBytes) in -short runs, which CI runs under the race detector.
func longLine() int {
	if testing.Short() {
		return 2 << 20
	}
	return 10 << 20
}

// TestHostileDataFiles runs the corpus of hostile data files: each must
// be an error naming the file (and line, column or field where there is
// one), peak at most 96 MiB of heap (inputs are up to 4 MiB decompressed
// or 10 MB lines), and write nothing outside its folder.
func TestHostileDataFiles(t *testing.T) {
	if raceEnabled && testing.Short() {
		t.Skip("single-goroutine readers; run without -race (go test ./data)")
	}
	res := hostile.Check(t, dataHostileCases(), 96<<20)
	if res.Cases < 100 {
		t.Errorf("only %d cases", res.Cases)
	}
}
