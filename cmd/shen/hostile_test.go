package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/shenml/shen/internal/hostile"
	"github.com/shenml/shen/model"
)

// The hostile-input corpus of the CLI: configs, data files and artifacts
// made by the tests below, run through train, evaluate, predict and
// inspect. Each must fail with an error naming the culprit, without a
// panic, within the memory bound, and write nothing outside its --out.
const cliAllocBound = 512 << 20

// irisArtifact trains the iris model once and returns its directory, the
// starting point of every hostile artifact.
var irisArtifact = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "shen-hostile")
	if err != nil {
		return "", err
	}
	if _, err := runArgs("train", "--config", filepath.Join("..", "..", "testdata", "configs", "iris.yaml"), "--out", dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, "iris", "model"), nil
})

func runArgs(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := execute(context.Background(), root)
	return out.String(), err
}

// cli is a case's Run: the command line, with {dir} replaced by the
// case's folder.
func cli(args ...string) func(dir string) error {
	return func(dir string) error {
		a := make([]string, len(args))
		for i, s := range args {
			a[i] = strings.ReplaceAll(s, "{dir}", dir)
		}
		_, err := runArgs(a...)
		return err
	}
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// irisCSV is a small labelled table in the iris artifact's columns.
const irisCSV = "f0,f1,f2,f3,target\n5.1,3.5,1.4,0.2,0\n6.7,3.0,5.2,2.3,2\n5.9,3.0,4.2,1.5,1\n"

const baseConfig = `name: h
data: {path: d.csv, target: y}
model: {kind: mlp, hidden: [4]}
train: {epochs: 1, batch_size: 4}
`

// config writes a config (and, when data is set, d.csv beside it).
func config(yaml, data string) func(t testing.TB, dir string) {
	return func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "run.yaml"), []byte(yaml))
		if data != "" {
			write(t, filepath.Join(dir, "d.csv"), []byte(data))
		}
	}
}

func goodTable() string {
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i, i%3, i%2)
	}
	return b.String()
}

func TestHostileTrain(t *testing.T) {
	train := cli("train", "--config", "{dir}/run.yaml", "--out", "{dir}/out")
	var bomb strings.Builder
	bomb.WriteString(baseConfig + "x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	bigNum := strings.Replace(goodTable(), "7,1,1\n", "7,1e39,1\n", 1)
	infCells := strings.Replace(strings.Replace(goodTable(), "7,1,1\n", "7,Inf,1\n", 1), "9,0,1\n", "9,-Inf,1\n", 1)
	cases := []hostile.Case{
		{Name: "alias bomb", Make: config(bomb.String(), goodTable()), Run: train, Culprit: []string{"run.yaml", "alias"}, Out: "out"},
		{Name: "deep nesting", Make: config("name: "+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+"\n", ""), Run: train, Culprit: []string{"run.yaml"}, Out: "out"},
		{Name: "name ..", Make: config(strings.Replace(baseConfig, "name: h", "name: ..", 1), goodTable()), Run: train, Culprit: []string{"run.yaml:1", "name"}, Out: "out"},
		{Name: "name escapes --out", Make: config(strings.Replace(baseConfig, "name: h", "name: ../../outside/x", 1), goodTable()), Run: train, Culprit: []string{"run.yaml:1", "name"}, Out: "out"},
		{Name: "NaN dropout", Make: config(strings.Replace(baseConfig, "hidden: [4]", "hidden: [4], dropout: .nan", 1), goodTable()), Run: train, Culprit: []string{"run.yaml:3", "model.dropout"}, Out: "out"},
		{Name: "NaN clip_norm", Make: config(strings.Replace(baseConfig, "batch_size: 4", "batch_size: 4, clip_norm: .nan", 1), goodTable()), Run: train, Culprit: []string{"train.clip_norm"}, Out: "out"},
		{Name: "conv padding 100000", Make: config("name: h\ndata: {path: d.csv, target: y}\nmodel: {kind: layers, input: [1, 1, 2], layers: [{type: conv2d, out: 4, kernel: 1, padding: 100000}, {type: flatten}, {type: linear, out: 2}]}\ntrain: {epochs: 1}\n", goodTable()), Run: train, Culprit: []string{"model"}, Out: "out"},
		{Name: "huge layer", Make: config(strings.Replace(baseConfig, "hidden: [4]", "hidden: [1000000000, 1000000000]", 1), goodTable()), Run: train, Culprit: []string{"model"}, Out: "out"},
		{Name: "data is a FIFO", Make: func(t testing.TB, dir string) {
			config(baseConfig, "")(t, dir)
			if err := syscall.Mkfifo(filepath.Join(dir, "d.csv"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "data links to /dev/zero", Make: func(t testing.TB, dir string) {
			config(baseConfig, "")(t, dir)
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "d.csv")); err != nil {
				t.Fatal(err)
			}
		}, Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "gzip bomb", Make: func(t testing.TB, dir string) {
			config(strings.Replace(baseConfig, "d.csv", "d.csv.gz", 1), "")(t, dir)
			var b bytes.Buffer
			w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			w.Write([]byte("a,b,y\n"))
			zeros := make([]byte, 1<<20)
			for range 256 { // 256 MiB of NULs, 4x the cap
				w.Write(zeros)
			}
			w.Close()
			write(t, filepath.Join(dir, "d.csv.gz"), b.Bytes())
		}, Run: train, Culprit: []string{"d.csv.gz"}, Out: "out"},
		{Name: "Inf cells", Make: config(baseConfig, infCells), Run: train, Culprit: []string{"d.csv", "b"}, Out: "out"},
		{Name: "number beyond float32", Make: config(baseConfig, bigNum), Run: train, Culprit: []string{"d.csv", "b"}, Out: "out"},
		{Name: "label not UTF-8", Make: config(baseConfig, "a,b,y\n1,2,\xff\xfe\n3,4,x\n5,6,x\n"), Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "10 MB line", Make: config(baseConfig, "a,b,y\n"+strings.Repeat("x", 10<<20)+"\n"), Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "all-NUL line", Make: config(baseConfig, "a,b,y\n"+strings.Repeat("\x00", 4096)+"\n1,2,3\n"), Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "ragged rows", Make: config(baseConfig, "a,b,y\n1,2,0\n3,4\n"), Run: train, Culprit: []string{"d.csv:3"}, Out: "out"},
		{Name: "missing data file", Make: config(baseConfig, ""), Run: train, Culprit: []string{"d.csv"}, Out: "out"},
		{Name: "config is a directory", Make: func(t testing.TB, dir string) {
			os.MkdirAll(filepath.Join(dir, "run.yaml"), 0o755)
		}, Run: train, Culprit: []string{"run.yaml"}, Out: "out"},
	}
	res := hostile.Check(t, cases, cliAllocBound)
	t.Logf("train: %d hostile cases, worst live heap %d KiB (%s)", res.Cases, res.WorstPeak>>10, res.WorstCase)
}

// artifact copies the iris artifact into dir/m and lets edit change it.
func artifact(edit func(t testing.TB, m string)) func(t testing.TB, dir string) {
	return func(t testing.TB, dir string) {
		src, err := irisArtifact()
		if err != nil {
			t.Fatal(err)
		}
		m := filepath.Join(dir, "m")
		for _, f := range []string{model.SpecFile, model.WeightsFile, model.ProfileFile} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(m, f), b)
		}
		write(t, filepath.Join(dir, "in.csv"), []byte(irisCSV))
		if edit != nil {
			edit(t, m)
		}
	}
}

// editSpec rewrites model.json with a string replacement.
func editSpec(from, to string) func(t testing.TB, m string) {
	return func(t testing.TB, m string) {
		p := filepath.Join(m, model.SpecFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), from, to, 1)
		if s == string(b) {
			t.Fatalf("model.json has no %q", from)
		}
		write(t, p, []byte(s))
	}
}

// artifactCases are hostile artifacts and inputs; run is the command.
func artifactCases(run func(dir string) error) []hostile.Case {
	return []hostile.Case{
		{Name: "labels do not match outputs", Make: artifact(editSpec(`"labels": [`, `"labels": ["extra", `)), Run: run, Culprit: []string{"model.json", "labels"}, Out: "out"},
		{Name: "task regression for 3 outputs", Make: artifact(editSpec(`"task": "classification"`, `"task": "regression"`)), Run: run, Culprit: []string{"model.json"}, Out: "out"},
		{Name: "image overflowing int", Make: artifact(editSpec(`"task"`, `"image": {"channels": 1, "height": 4294967296, "width": 4294967296}, "task"`)), Run: run, Culprit: []string{"model.json", "image"}, Out: "out"},
		{Name: "weights link to /dev/zero", Make: artifact(func(t testing.TB, m string) {
			p := filepath.Join(m, model.WeightsFile)
			os.Remove(p)
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}), Run: run, Culprit: []string{model.WeightsFile}, Out: "out"},
		{Name: "model.json is a FIFO", Make: artifact(func(t testing.TB, m string) {
			p := filepath.Join(m, model.SpecFile)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}), Run: run, Culprit: []string{model.SpecFile}, Out: "out"},
		{Name: "truncated weights", Make: artifact(func(t testing.TB, m string) {
			p := filepath.Join(m, model.WeightsFile)
			b, _ := os.ReadFile(p)
			write(t, p, b[:len(b)/2])
		}), Run: run, Culprit: []string{model.WeightsFile}, Out: "out"},
		{Name: "hidden width absurd", Make: artifact(editSpec(`"hidden": [`, `"hidden": [4000000000, `)), Run: run, Culprit: []string{"model.json"}, Out: "out"},
		{Name: "input missing a column", Make: artifact(func(t testing.TB, m string) {
			write(t, filepath.Join(filepath.Dir(m), "in.csv"), []byte("f0,f1,f2,target\n1,2,3,0\n"))
		}), Run: run, Culprit: []string{"in.csv", "f3"}, Out: "out"},
		{Name: "input not UTF-8", Make: artifact(func(t testing.TB, m string) {
			write(t, filepath.Join(filepath.Dir(m), "in.csv"), []byte("f0,f1,f2,f3,target\n1,2,3,\xff\xfe,0\n"))
		}), Run: run, Culprit: []string{"in.csv"}, Out: "out"},
		{Name: "input holds Inf", Make: artifact(func(t testing.TB, m string) {
			write(t, filepath.Join(filepath.Dir(m), "in.csv"), []byte("f0,f1,f2,f3,target\n1,2,3,Inf,0\n"))
		}), Run: run, Culprit: []string{"in.csv", "f3"}, Out: "out"},
		{Name: "gzip bomb input", Make: artifact(func(t testing.TB, m string) {
			var b bytes.Buffer
			w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			w.Write([]byte("f0,f1,f2,f3,target\n"))
			zeros := make([]byte, 1<<20)
			for range 256 {
				w.Write(zeros)
			}
			w.Close()
			write(t, filepath.Join(filepath.Dir(m), "in.csv.gz"), b.Bytes())
			os.Remove(filepath.Join(filepath.Dir(m), "in.csv"))
			os.Symlink("in.csv.gz", filepath.Join(filepath.Dir(m), "in.csv"))
		}), Run: run, Culprit: []string{"in.csv"}, Out: "out"},
	}
}

func TestHostilePredict(t *testing.T) {
	cases := artifactCases(cli("predict", "--model", "{dir}/m", "--input", "{dir}/in.csv", "--output", "{dir}/out/p.csv"))
	cases = append(cases, hostile.Case{Name: "output into a missing folder", Make: artifact(nil),
		Run: cli("predict", "--model", "{dir}/m", "--input", "{dir}/in.csv", "--output", "{dir}/out/no/such/p.csv"), Culprit: []string{"p.csv"}, Out: "out"})
	res := hostile.Check(t, cases, cliAllocBound)
	t.Logf("predict: %d hostile cases, worst live heap %d KiB (%s)", res.Cases, res.WorstPeak>>10, res.WorstCase)
}

func TestHostileEvaluate(t *testing.T) {
	cases := artifactCases(cli("evaluate", "--model", "{dir}/m", "--data", "{dir}/in.csv"))
	cases = append(cases, hostile.Case{Name: "label outside the classes", Make: artifact(func(t testing.TB, m string) {
		write(t, filepath.Join(filepath.Dir(m), "in.csv"), []byte("f0,f1,f2,f3,target\n1,2,3,4,7\n"))
	}), Run: cli("evaluate", "--model", "{dir}/m", "--data", "{dir}/in.csv"), Culprit: []string{"in.csv", `"7"`}, Out: "out"})
	res := hostile.Check(t, cases, cliAllocBound)
	t.Logf("evaluate: %d hostile cases, worst live heap %d KiB (%s)", res.Cases, res.WorstPeak>>10, res.WorstCase)
}

func TestHostileInspect(t *testing.T) {
	var cases []hostile.Case
	for _, c := range artifactCases(cli("inspect", "--model", "{dir}/m")) {
		if !strings.HasPrefix(c.Name, "input") && !strings.HasPrefix(c.Name, "gzip bomb input") {
			cases = append(cases, c)
		}
	}
	res := hostile.Check(t, cases, cliAllocBound)
	t.Logf("inspect: %d hostile cases, worst live heap %d KiB (%s)", res.Cases, res.WorstPeak>>10, res.WorstCase)
}
