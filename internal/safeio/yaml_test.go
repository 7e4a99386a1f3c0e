package safeio

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// billionLaughs is the classic alias bomb: nine levels of nine aliases,
// 9^9 (387 million) strings once expanded, from about 1 KB of YAML.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 9; i++ {
		p, c := string(rune('a'+i-1)), string(rune('a'+i))
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", c, c, p, p, p, p, p, p, p, p, p)
	}
	return b.String()
}

// peakHeap runs fn and returns the most heap it held, sampled after fn
// through the GC's total allocation count (an upper bound on the peak).
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestCheckYAMLRefusesBombs(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"billion laughs", billionLaughs(), "expand to more than"},
		{"deep flow sequence", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "nesting deeper"},
		{"deep flow mapping", "a: " + strings.Repeat("{a: ", 100000) + "1" + strings.Repeat("}", 100000), "nesting deeper"},
		{"deep block sequence", strings.Repeat("- ", 100000) + "x\n", "nesting deeper"},
		{"deep block mapping", deepBlockMap(200), "nesting deeper"},
		{"many aliases", "a: &a 1\nb: [" + strings.Repeat("*a,", MaxYAMLAliases+1) + "]\n", "aliases"},
		{"wide alias fan-out", "a: &a [" + strings.Repeat("1,", 2000) + "]\nb: [" + strings.Repeat("*a,", 1000) + "]\n", "expand to more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = CheckYAML([]byte(c.doc)) })
			var ye *YAMLError
			if !errors.As(err, &ye) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckYAML = %v, want an error with %q", err, c.want)
			}
			// Linear in the input: a bounded multiple of its size.
			if limit := uint64(2000*len(c.doc) + 16<<20); n > limit {
				t.Errorf("allocated %d bytes for a %d-byte document (limit %d)", n, len(c.doc), limit)
			}
			t.Logf("%s: %d bytes in, %.1f MiB allocated, %v", c.name, len(c.doc), float64(n)/(1<<20), err)
		})
	}
}

func deepBlockMap(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "v: 1\n")
	return b.String()
}

func TestCheckYAMLAcceptsConfigs(t *testing.T) {
	docs := []string{
		"name: iris\ndata:\n  path: iris.csv\n  target: species\nmodel:\n  kind: mlp\n  hidden: [16, 8]\ntrain:\n  epochs: 20\n",
		"defaults: &d\n  lr: 0.01\n  epochs: 5\nrun1:\n  <<: *d\n  lr: 0.1\nrun2: *d\n",
		"layers:\n- type: conv2d\n  out: 8\n- {type: relu}\n- type: linear\n  out: 10\n",
		"a:\n- b:\n  - c:\n    - d: [1, {e: [2, 3]}]\n",
		"---\na: 1\n...\n---\nb: 2\n",
		"",
		"just a string",
		deepBlockMap(40),
		strings.Repeat("[", 50) + strings.Repeat("]", 50),
		"a: &a [" + strings.Repeat("1,", 100) + "]\nb: [" + strings.Repeat("*a,", 100) + "]\n",
	}
	for _, d := range docs {
		if err := CheckYAML([]byte(d)); err != nil {
			t.Errorf("CheckYAML(%.40q) = %v, want nil", d, err)
		}
	}
}

// FuzzCheckYAML: CheckYAML never panics, and what it accepts decodes
// within bounded work (the decoder is run under the same bounds).
func FuzzCheckYAML(f *testing.F) {
	f.Add([]byte(billionLaughs()))
	f.Add([]byte("a: &a [1,2]\nb: *a\nc: {x: *a}\n"))
	f.Add([]byte("- - - - [[{a: b}]]\n"))
	f.Add([]byte("k:\n  k:\n    k: [*x]\n"))
	f.Add([]byte("a: &a\n  b: &b [*a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		if CheckYAML(b) != nil {
			return
		}
		var v any
		yaml.Unmarshal(b, &v) // must not panic or blow up after the check
	})
}
