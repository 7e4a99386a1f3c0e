package layering

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/shenml/shen/"

// leaves are packages that sit inside a higher one's folder but import
// nothing of Shen, so any layer may use them: the safetensors format lives
// beside the artifact code that writes it, and nn reads and writes state
// dicts with it.
var leaves = map[string]bool{"model/safetensors": true}

// forbidden maps a package to the packages it must never reach, directly
// or through others.
var forbidden = map[string][]string{
	"tensor":  {"nn", "optim", "data", "model", "predict", "metrics", "report", "train"},
	"nn":      {"data", "model", "predict", "metrics", "report", "train"},
	"data":    {"model", "predict", "metrics", "report", "train"},
	"model":   {"predict", "metrics", "report", "train"},
	"metrics": {"model", "predict", "report", "train"},
	"report":  {"predict", "train"},
	"predict": {"report", "train"},
	"quant":   {"data", "model", "predict", "train", "serve", "monitor", "tune", "onnx"},
	"fit":     {"model", "predict", "train", "serve", "monitor", "tune"},
	"onnx":    {"predict", "train", "serve", "monitor", "tune"},
	"tune":    {"serve", "monitor"},
	"serve":   {"train", "tune"},
	"monitor": {"train", "tune", "serve"},
}

// imports returns each package's imports of this module (non-test files).
func imports(t *testing.T, root string) map[string][]string {
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(graph[pkg], dep) {
				graph[pkg] = append(graph[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// reach returns every package pkg imports, directly or not, with the
// chain that leads to it.
func reach(graph map[string][]string, pkg string) map[string]string {
	seen := map[string]string{}
	var walk func(p, via string)
	walk = func(p, via string) {
		for _, d := range graph[p] {
			if _, ok := seen[d]; !ok {
				seen[d] = via + " -> " + d
				walk(d, seen[d])
			}
		}
	}
	walk(pkg, pkg)
	return seen
}

func TestImportDirection(t *testing.T) {
	graph := imports(t, filepath.Join("..", ".."))
	for pkg, bad := range forbidden {
		r := reach(graph, pkg)
		for _, b := range bad {
			for dep, chain := range r {
				if dep == b || (strings.HasPrefix(dep, b+"/") && !leaves[dep]) {
					t.Errorf("%s must not import %s: %s", pkg, b, chain)
				}
			}
		}
	}
	for leaf := range leaves {
		if len(graph[leaf]) > 0 {
			t.Errorf("%s is listed as a leaf but imports %v", leaf, graph[leaf])
		}
	}
	if len(graph["predict"]) == 0 || len(graph["train"]) == 0 {
		t.Fatalf("import graph looks empty: %v", graph)
	}
}

// The checker itself: a graph with a forbidden path is caught.
func TestReachFindsIndirectImports(t *testing.T) {
	g := map[string][]string{"predict": {"model"}, "model": {"train"}}
	if chain, ok := reach(g, "predict")["train"]; !ok || chain != "predict -> model -> train" {
		t.Errorf("reach missed predict -> model -> train: %q", chain)
	}
}
