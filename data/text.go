package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shenml/shen/internal/safeio"
)

// TokenLevel says how text is split into tokens.
type TokenLevel string

const (
	// Chars makes one token per Unicode code point.
	Chars TokenLevel = "char"
	// Words makes one token per run of letters, digits and '_' and one per
	// other non-space rune (punctuation).
	Words TokenLevel = "word"
)

// Reserved token ids and their texts, present in every Vocab.
const (
	PadID    int64 = 0
	UnkID    int64 = 1
	PadToken       = "<pad>"
	UnkToken       = "<unk>"
)

// VocabOptions controls BuildVocab.
type VocabOptions struct {
	// Level is Chars or Words (default Chars).
	Level TokenLevel `json:"level,omitempty"`
	// MinFreq drops tokens seen fewer times (default 1); they encode as UnkID.
	MinFreq int `json:"min_freq,omitempty"`
	// MaxSize caps the vocabulary size, reserved tokens included (0: no cap);
	// the most frequent tokens are kept.
	MaxSize int `json:"max_size,omitempty"`
	// Lower lower-cases text before tokenizing.
	Lower bool `json:"lower,omitempty"`
}

// Vocab maps tokens to int64 ids. Ids 0 and 1 are PadToken and UnkToken;
// unknown tokens encode as UnkID. Char vocabularies order tokens by code
// point, word vocabularies by decreasing frequency, then text.
type Vocab struct {
	Level  TokenLevel
	Lower  bool
	Tokens []string
	index  map[string]int64
}

// BuildVocab builds a vocabulary from text.
func BuildVocab(text string, opts VocabOptions) (*Vocab, error) {
	return BuildVocabTexts([]string{text}, opts)
}

// BuildVocabTexts builds a vocabulary from several texts (e.g. a column).
func BuildVocabTexts(texts []string, opts VocabOptions) (*Vocab, error) {
	if opts.Level == "" {
		opts.Level = Chars
	}
	if opts.Level != Chars && opts.Level != Words {
		return nil, fmt.Errorf("data: unknown token level %q (want char or word)", opts.Level)
	}
	if opts.MinFreq <= 0 {
		opts.MinFreq = 1
	}
	v := &Vocab{Level: opts.Level, Lower: opts.Lower}
	freq := map[string]int{}
	for _, t := range texts {
		v.tokenize(t, func(tok string) { freq[tok]++ })
	}
	delete(freq, PadToken)
	delete(freq, UnkToken)
	toks := make([]string, 0, len(freq))
	for t, n := range freq {
		if n >= opts.MinFreq {
			toks = append(toks, t)
		}
	}
	byFreq := func(i, j int) bool {
		if freq[toks[i]] != freq[toks[j]] {
			return freq[toks[i]] > freq[toks[j]]
		}
		return toks[i] < toks[j]
	}
	sort.Slice(toks, byFreq)
	if opts.MaxSize > 0 && len(toks) > opts.MaxSize-2 {
		toks = toks[:max(0, opts.MaxSize-2)]
	}
	if opts.Level == Chars {
		sort.Strings(toks) // UTF-8 byte order is code point order
	}
	v.Tokens = append([]string{PadToken, UnkToken}, toks...)
	v.reindex()
	return v, nil
}

func (v *Vocab) reindex() {
	v.index = make(map[string]int64, len(v.Tokens))
	for i, t := range v.Tokens {
		v.index[t] = int64(i)
	}
}

// tokenize calls emit for each token of text.
func (v *Vocab) tokenize(text string, emit func(string)) {
	if v.Lower {
		text = strings.ToLower(text)
	}
	if v.Level == Chars {
		for i, r := range text {
			if r == utf8.RuneError {
				emit(string(utf8.RuneError))
				continue
			}
			emit(text[i : i+utf8.RuneLen(r)])
		}
		return
	}
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			emit(text[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			emit(string(r))
		}
	}
	if start >= 0 {
		emit(text[start:])
	}
}

// Tokenize splits text into tokens as Encode does.
func (v *Vocab) Tokenize(text string) []string {
	var out []string
	v.tokenize(text, func(t string) { out = append(out, t) })
	return out
}

// Len returns the number of tokens, reserved ones included.
func (v *Vocab) Len() int { return len(v.Tokens) }

// ID returns the id of a token, UnkID when absent.
func (v *Vocab) ID(tok string) int64 {
	if id, ok := v.index[tok]; ok {
		return id
	}
	return UnkID
}

// Encode returns the token ids of text; unknown tokens become UnkID.
func (v *Vocab) Encode(text string) []int64 {
	return v.AppendEncode(nil, text)
}

// AppendEncode appends the token ids of text to dst.
func (v *Vocab) AppendEncode(dst []int64, text string) []int64 {
	v.tokenize(text, func(t string) { dst = append(dst, v.ID(t)) })
	return dst
}

// Decode turns ids back into text: characters are concatenated, words joined
// by spaces. PadID is skipped; UnkID and out-of-range ids decode as
// UnkToken for words and U+FFFD for characters.
func (v *Vocab) Decode(ids []int64) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		if id == PadID {
			continue
		}
		tok := ""
		if id > UnkID && id < int64(len(v.Tokens)) {
			tok = v.Tokens[id]
		} else if v.Level == Chars {
			tok = "\uFFFD"
		} else {
			tok = UnkToken
		}
		if v.Level == Words && !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(tok)
	}
	return b.String()
}

type vocabJSON struct {
	Level  TokenLevel `json:"level"`
	Lower  bool       `json:"lower,omitempty"`
	Tokens []string   `json:"tokens"`
}

// MarshalJSON encodes the vocabulary as {"level","lower","tokens"}.
func (v *Vocab) MarshalJSON() ([]byte, error) {
	return json.Marshal(vocabJSON{v.Level, v.Lower, v.Tokens})
}

// UnmarshalJSON decodes and validates a vocabulary: a known level, the two
// reserved tokens first, no duplicates.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("data: vocabulary: %w", err)
	}
	if j.Level != Chars && j.Level != Words {
		return fmt.Errorf("data: vocabulary: unknown level %q", j.Level)
	}
	if len(j.Tokens) < 2 || j.Tokens[0] != PadToken || j.Tokens[1] != UnkToken {
		return errors.New("data: vocabulary: tokens must start with " + PadToken + ", " + UnkToken)
	}
	nv := Vocab{Level: j.Level, Lower: j.Lower, Tokens: j.Tokens}
	nv.reindex()
	if len(nv.index) != len(j.Tokens) {
		return errors.New("data: vocabulary: duplicate tokens")
	}
	*v = nv
	return nil
}

// Save writes the vocabulary as JSON, atomically.
func (v *Vocab) Save(path string) error { return writeJSONAtomic(path, v) }

// LoadVocab reads a vocabulary written by Save.
func LoadVocab(path string) (*Vocab, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	v := &Vocab{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// TokenWindows is a Dataset of sliding windows over a token stream for
// language-model training: sample i has inputs IDs[s:s+Seq] (XInt) and
// targets IDs[s+1:s+Seq+1] (Y), with s = i*Stride.
type TokenWindows struct {
	IDs         []int64
	Seq, Stride int
}

// NewTokenWindows checks seq and stride (stride 0 means seq).
func NewTokenWindows(ids []int64, seq, stride int) (*TokenWindows, error) {
	if stride == 0 {
		stride = seq
	}
	if seq <= 0 || stride <= 0 {
		return nil, fmt.Errorf("data: window length %d and stride %d must be > 0", seq, stride)
	}
	return &TokenWindows{IDs: ids, Seq: seq, Stride: stride}, nil
}

// Len returns the number of complete windows.
func (w *TokenWindows) Len() int {
	if len(w.IDs) < w.Seq+1 {
		return 0
	}
	return (len(w.IDs)-w.Seq-1)/w.Stride + 1
}

// Spec returns XIntShape [Seq] and YLen Seq.
func (w *TokenWindows) Spec() Spec { return Spec{XIntShape: []int{w.Seq}, YLen: w.Seq} }

// Get copies window i into s.XInt and s.Y.
func (w *TokenWindows) Get(i int, s Sample) error {
	if i < 0 || i >= w.Len() {
		return fmt.Errorf("data: window %d out of range [0,%d)", i, w.Len())
	}
	st := i * w.Stride
	copy(s.XInt, w.IDs[st:st+w.Seq])
	copy(s.Y, w.IDs[st+1:st+w.Seq+1])
	return nil
}

// UnigramLoss is the cross-entropy, in nats per token, of val under the
// token frequencies of train (add-one smoothed over a vocabulary of v):
// the score of a model that ignores context, the baseline a language model
// must beat. It is 0 for an empty val.
func UnigramLoss(train, val []int64, v int) float64 {
	if len(val) == 0 {
		return 0
	}
	counts := make([]float64, v)
	for _, id := range train {
		counts[id]++
	}
	total := float64(len(train) + v)
	loss := 0.0
	for _, id := range val {
		loss -= math.Log((counts[id] + 1) / total)
	}
	return loss / float64(len(val))
}
