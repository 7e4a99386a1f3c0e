package data

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestVocab(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		opts   VocabOptions
		tokens []string
		enc    string
		ids    []int64
		dec    string
	}{
		{"chars", "abca", VocabOptions{}, []string{"<pad>", "<unk>", "a", "b", "c"}, "cab!", []int64{4, 2, 3, 1}, "cab\uFFFD"},
		{"chars unicode", "déjà", VocabOptions{}, []string{"<pad>", "<unk>", "d", "j", "à", "é"}, "jà", []int64{3, 4}, "jà"},
		{"words min freq", "the cat. The dog, the cat", VocabOptions{Level: Words, MinFreq: 2, Lower: true},
			[]string{"<pad>", "<unk>", "the", "cat"}, "The cat sat", []int64{2, 3, 1}, "the cat <unk>"},
		{"words max size", "b b a a c", VocabOptions{Level: Words, MaxSize: 4}, []string{"<pad>", "<unk>", "a", "b"}, "c a", []int64{1, 2}, "<unk> a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := BuildVocab(tc.text, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Tokens, tc.tokens) {
				t.Fatalf("tokens %q, want %q", v.Tokens, tc.tokens)
			}
			ids := v.Encode(tc.enc)
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("encode %v, want %v", ids, tc.ids)
			}
			if got := v.Decode(ids); got != tc.dec {
				t.Errorf("decode %q, want %q", got, tc.dec)
			}
			b, _ := json.Marshal(v)
			var w Vocab
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w.Encode(tc.enc), ids) {
				t.Error("reloaded vocabulary encodes differently")
			}
		})
	}
	for _, bad := range []string{`{"level":"char","tokens":["a"]}`, `{"level":"x","tokens":["<pad>","<unk>"]}`, `{"level":"word","tokens":["<pad>","<unk>","a","a"]}`, `[]`} {
		var v Vocab
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestTokenWindows(t *testing.T) {
	ids := []int64{10, 11, 12, 13, 14, 15, 16}
	w, err := NewTokenWindows(ids, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	// starts 0, 2 (need s+3 < 7): windows [10 11 12]->[11 12 13], [12 13 14]->[13 14 15]; s=4 needs index 7.
	if w.Len() != 2 {
		t.Fatalf("len %d", w.Len())
	}
	l, _ := NewLoader(w, LoaderOptions{BatchSize: 2})
	for b, err := range l.All() {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.XInt, []int64{10, 11, 12, 12, 13, 14}) || !slices.Equal(b.Y, []int64{11, 12, 13, 13, 14, 15}) ||
			!slices.Equal(b.XIntShape, []int{2, 3}) || !slices.Equal(b.YShape, []int{2, 3}) || b.X != nil {
			t.Errorf("batch %v %v %v %v", b.XInt, b.Y, b.XIntShape, b.YShape)
		}
	}
	if _, err := NewTokenWindows(ids, 0, 1); err == nil {
		t.Error("zero window accepted")
	}
}

func TestMobyDick(t *testing.T) {
	p := shared(t, "text/moby-dick.txt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b[:200000])
	v, err := BuildVocab(text, VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Decode(v.Encode(text)) != text {
		t.Error("char round trip failed")
	}
	path := filepath.Join(t.TempDir(), "vocab.json")
	if err := v.Save(path); err != nil {
		t.Fatal(err)
	}
	w, err := LoadVocab(path)
	if err != nil || !slices.Equal(w.Tokens, v.Tokens) {
		t.Fatal(err)
	}
}

// TestUnigramLoss checks the baseline against a hand computation: with
// counts a:3, b:1 over a vocabulary of 3, add-one gives p(a)=4/7, p(b)=2/7.
func TestUnigramLoss(t *testing.T) {
	got := UnigramLoss([]int64{0, 0, 0, 1}, []int64{0, 1}, 3)
	want := -(math.Log(4.0/7) + math.Log(2.0/7)) / 2
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("UnigramLoss = %v, want %v", got, want)
	}
	if UnigramLoss(nil, nil, 3) != 0 {
		t.Fatal("empty validation set should score 0")
	}
}
