package predict_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/train"
)

// fruitCSV writes a small table with a numeric, a categorical and a
// second numeric input, and a label that follows from them.
func fruitCSV(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("size,color,weight,label\n")
	colors := []string{"red", "green", "blue"}
	for i := range 150 {
		size := 2 + float64(i%20)/2
		color := colors[i%3]
		weight := 100 + float64((i*37)%50)
		label := "small"
		if size > 6 || color == "red" {
			label = "big"
		}
		fmt.Fprintf(&b, "%g,%s,%g,%s\n", size, color, weight, label)
	}
	p := filepath.Join(dir, "fruit.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// trainFruit trains a small classifier on fruitCSV and returns its
// artifact directory; impute sets preprocessing.impute.
func trainFruit(t testing.TB, impute string) string {
	t.Helper()
	dir := t.TempDir()
	fruitCSV(t, dir)
	cfg := fmt.Sprintf(`name: fruit
data:
  path: fruit.csv
  format: csv
  target: label
  split: {val: 0.2, test: 0.2, seed: 1}
preprocessing: {impute: %s}
model: {kind: mlp, hidden: [8]}
train: {epochs: 3, batch_size: 16, seed: 1, optimizer: {name: adam, lr: 0.01}}
`, impute)
	cp := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(cp, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := train.LoadConfig(cp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(context.Background(), c, filepath.Join(dir, "run"), train.RunOptions{Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return res.ModelDir
}

func load(t testing.TB, dir string) *predict.Predictor {
	t.Helper()
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRecordsAnswersAndNotes(t *testing.T) {
	p := load(t, trainFruit(t, "mean"))
	if p.Kind() != predict.Table || p.InputSize() != 5 || p.Outputs() != 2 {
		t.Fatalf("kind %v, input %d, outputs %d", p.Kind(), p.InputSize(), p.Outputs())
	}
	rows := []map[string]any{
		{"size": 3.0, "color": "green", "weight": 120.0},             // clean
		{"size": 3.0, "color": "purple", "weight": 120.0},            // unseen category
		{"color": "green", "weight": 120.0},                          // missing number
		{"size": 1e6, "color": "green", "weight": 120.0},             // out of range
		{"size": "abc", "color": "green", "weight": 120.0},           // wrong type
		{"size": 3.0, "color": nil, "weight": 120.0},                 // missing category
		{"size": "3", "color": "green", "weight": 120, "extra": "x"}, // numbers as text, an unknown field
		{"size": "1e39", "color": "green", "weight": 120.0},          // text beyond float32: wrong type
		{"size": "NaN", "color": "green", "weight": 120.0},           // NaN as text is missing
	}
	r, err := p.Records(rows)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != len(rows) || len(r.Probs) != 2*len(rows) || len(r.Classes) != 2 {
		t.Fatalf("result for %d rows: %d probs, classes %v", r.N, len(r.Probs), r.Classes)
	}
	for i := range r.N {
		if s := r.Probs[2*i] + r.Probs[2*i+1]; math.Abs(float64(s)-1) > 1e-6 {
			t.Errorf("row %d: probabilities sum to %v", i, s)
		}
	}
	want := []struct{ field, kind string }{
		{},
		{"color", predict.NoteUnseenCategory},
		{"size", predict.NoteImputed},
		{"size", predict.NoteOutOfRange},
		{"size", predict.NoteWrongType},
		{"color", predict.NoteImputed},
		{},
		{"size", predict.NoteWrongType},
		{"size", predict.NoteImputed},
	}
	for i, w := range want {
		var got []predict.Note
		if r.Notes != nil {
			got = r.Notes[i]
		}
		if w.kind == "" {
			if len(got) != 0 {
				t.Errorf("row %d: notes %v, want none", i, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Field != w.field || got[0].Kind != w.kind || got[0].Message == "" {
			t.Errorf("row %d: notes %+v, want one %s note on %s", i, got, w.kind, w.field)
		}
	}
	// The clean row and the row of numbers as text are the same input.
	if r.Probs[0] != r.Probs[12] {
		t.Errorf("\"3\" and 3.0 answered differently: %v vs %v", r.Probs[12], r.Probs[0])
	}
}

func TestRecordsRowErrors(t *testing.T) {
	p := load(t, trainFruit(t, "mean"))
	strict := load(t, trainFruit(t, "none"))
	cases := []struct {
		name  string
		p     *predict.Predictor
		rows  []map[string]any
		row   int
		field string
		msg   string
	}{
		{"infinite", p, []map[string]any{{"size": 1.0}, {"size": math.Inf(1)}}, 1, "size", "not a finite number"},
		{"beyond float32", p, []map[string]any{{"size": 1e300}}, 0, "size", "within float32's range"},
		{"object for a number", p, []map[string]any{{"weight": map[string]any{"a": 1}}}, 0, "weight", "want a number, got an object"},
		{"array for a category", p, []map[string]any{{"size": 1.0, "color": []any{"red"}}}, 0, "color", "got an array"},
		{"missing without a fill value", strict, []map[string]any{{"size": 3.0, "color": "red", "weight": 110.0}, {"size": 3.0, "color": "red"}}, 1, "weight", "no fill value"},
		{"wrong type without a fill value", strict, []map[string]any{{"size": "big", "color": "red", "weight": 110.0}}, 0, "size", "not a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Records(tc.rows)
			re, ok := errors.AsType[*predict.RowError](err)
			if !ok {
				t.Fatalf("error %v, want a RowError", err)
			}
			if re.Row != tc.row || re.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q (row %d, field %q), want row %d, field %q, saying %q", err, re.Row, re.Field, tc.row, tc.field, tc.msg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("row %d", tc.row+1)) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name the row and field", err)
			}
		})
	}
	if _, err := p.Records(nil); err == nil {
		t.Error("no records: no error")
	}
}

// Records, Frame and Tensor are one path: the same rows give the same
// bits whichever way they come in.
func TestRecordsFrameTensorAgree(t *testing.T) {
	dir := trainFruit(t, "mean")
	p := load(t, dir)
	src := fruitCSV(t, t.TempDir())
	f, err := predict.ReadTable(src)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := p.Frame(f, p.LabelColumn(f))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for i := range f.NumRows() {
		rows = append(rows, map[string]any{"size": f.Col("size").Num[i], "color": f.Col("color").Value(i), "weight": f.Col("weight").Num[i]})
	}
	rr, err := p.Records(rows)
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := p.PrepareRecords(rows)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := p.Tensor(x, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rf.Probs {
		if rf.Probs[i] != rr.Probs[i] || rr.Probs[i] != rt.Probs[i] {
			t.Fatalf("probability %d: frame %v, records %v, tensor %v", i, rf.Probs[i], rr.Probs[i], rt.Probs[i])
		}
	}
	ev, err := p.EvaluateFrame(f, "label")
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range rf.N {
		if rf.Label(i) == f.Col("label").Value(i) {
			correct++
		}
	}
	if got := ev.Metrics["accuracy"]; math.Abs(got-float64(correct)/float64(rf.N)) > 1e-12 {
		t.Errorf("evaluate accuracy %v, predictions give %v", got, float64(correct)/float64(rf.N))
	}
}

func TestForwardChecksItsInput(t *testing.T) {
	p := load(t, trainFruit(t, "mean"))
	out := make([]float32, 2*p.Outputs())
	if err := p.Forward(make([]float32, 3), 2, out); err == nil {
		t.Error("wrong input length: no error")
	}
	if err := p.Forward(make([]float32, 2*p.InputSize()), 2, out[:1]); err == nil {
		t.Error("wrong output length: no error")
	}
	x := make([]float32, 2*p.InputSize())
	x[p.InputSize()+1] = float32(math.NaN())
	err := p.Forward(x, 2, out)
	if re, ok := errors.AsType[*predict.RowError](err); !ok || re.Row != 1 {
		t.Errorf("NaN in sample 1: %v", err)
	}
	if _, err := p.Generate("hi", 3, 0, 1); err == nil {
		t.Error("Generate on a table model: no error")
	}
	if _, err := p.Images(nil); err == nil {
		t.Error("Images on a table model: no error")
	}
	if _, err := predict.New(nil); err == nil {
		t.Error("New(nil): no error")
	}
	_ = data.Numeric
}

// An input so large that it overflows the network is refused, never
// answered with NaN probabilities.
func TestForwardRefusesOverflow(t *testing.T) {
	m, err := model.New(model.Spec{Name: "big", Task: "classification", Labels: []string{"a", "b"},
		Architecture: model.Architecture{Kind: "mlp", Input: []int{2}, Hidden: []int{4}, Outputs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range nn.StateDict(m.Net) {
		v := float32(1e20)
		if strings.HasSuffix(e.Name, "bias") {
			v = 0
		}
		for i := range e.Value.Data() {
			e.Value.Data()[i] = v
		}
	}
	p, err := predict.New(m)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0, 0, 1e20, 1e20}
	out := make([]float32, 4)
	err = p.Forward(x, 2, out)
	re, ok := errors.AsType[*predict.RowError](err)
	if !ok || re.Row != 1 || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("overflowing row 1: %v", err)
	}
	if _, err := p.Tensor(x, 2); err == nil {
		t.Error("Tensor on an overflowing row: no error")
	}
}

// Encoded images are decoded with their header checked first: an image
// declaring more pixels than allowed is refused naming its row.
func TestImageBytes(t *testing.T) {
	m, err := model.New(model.Spec{Name: "img", Task: "classification", Labels: []string{"a", "b"},
		Architecture: model.Architecture{Kind: "mlp", Input: []int{1, 4, 4}, Hidden: []int{4}, Outputs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := predict.New(m)
	if err != nil {
		t.Fatal(err)
	}
	var small bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 8, 8)))
	r, err := p.ImageBytes([][]byte{small.Bytes(), small.Bytes()})
	if err != nil || r.N != 2 {
		t.Fatalf("two small PNGs: %v", err)
	}
	// A valid PNG header declaring 100000 x 100000 pixels, and nothing else.
	var huge bytes.Buffer
	huge.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"))
	binary.Write(&huge, binary.BigEndian, [2]uint32{100000, 100000})
	huge.Write([]byte{8, 0, 0, 0, 0})
	crc := crc32.ChecksumIEEE(huge.Bytes()[12:])
	binary.Write(&huge, binary.BigEndian, crc)
	_, err = p.ImageBytes([][]byte{small.Bytes(), huge.Bytes()})
	re, ok := errors.AsType[*predict.RowError](err)
	if !ok || re.Row != 1 {
		t.Errorf("a PNG declaring 10^10 pixels: %v", err)
	}
	if _, err := p.ImageBytes([][]byte{[]byte("not an image")}); err == nil {
		t.Error("garbage bytes: no error")
	}
}
