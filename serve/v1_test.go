package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/train"
)

func TestV1Records(t *testing.T) {
	dir := trainedIris(t)
	ts := startServer(t, Options{Model: dir, ModelName: "iris"})
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{
		{"f0": 5.1, "f1": 3.5, "f2": 1.4, "f3": 0.2},
		{"f0": 6.7, "f1": 3.0, "f2": 5.2, "f3": 2.3},
		{"f0": 5.9, "f1": 3.0, "f2": 4.2, "f3": 1.5, "ignored": "x"},
		{"f0": 5.9, "f1": "3.0", "f2": 4.2, "f3": 40.0},
	}
	want, err := p.Records(rows)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"instances":[{"f0":5.1,"f1":3.5,"f2":1.4,"f3":0.2},{"f0":6.7,"f1":3.0,"f2":5.2,"f3":2.3},` +
		`{"f0":5.9,"f1":3.0,"f2":4.2,"f3":1.5,"ignored":"x"},{"f0":5.9,"f1":"3.0","f2":4.2,"f3":40.0}]}`
	status, resp, _ := call(t, "POST", ts.url+"/v1/models/iris:predict", body, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	preds := resp["predictions"].([]any)
	if len(preds) != 4 {
		t.Fatalf("%d predictions for 4 instances", len(preds))
	}
	for i, pr := range preds {
		m := pr.(map[string]any)
		if m["label"] != want.Label(i) || m["class"] != float64(want.Class[i]) {
			t.Errorf("row %d: %v, predict says %s", i, m, want.Label(i))
		}
		probs := m["probabilities"].(map[string]any)
		for c, name := range want.Classes {
			if got := probs[name].(float64); !near([]float32{float32(got)}, []float32{want.Probs[i*3+c]}) {
				t.Errorf("row %d P(%s) = %v, predict says %v", i, name, got, want.Probs[i*3+c])
			}
		}
		gotNotes := fmt.Sprint(m["notes"])
		if len(want.Notes) > i && len(want.Notes[i]) > 0 {
			for _, n := range want.Notes[i] {
				if !strings.Contains(gotNotes, n.Kind) || !strings.Contains(gotNotes, n.Field) {
					t.Errorf("row %d notes %s lack %+v", i, gotNotes, n)
				}
			}
		} else if m["notes"] != nil {
			t.Errorf("row %d has notes %s, predict has none", i, gotNotes)
		}
	}
	if len(want.Notes) < 4 || len(want.Notes[3]) == 0 {
		t.Errorf("the string and out-of-range values of row 3 gave no notes: %v", want.Notes)
	}
	errs := []struct{ body, says string }{
		{`{"instances":[{"f0":1}, 7]}`, "instance 1 is not a record"},
		{`{"instances":[]}`, `no "instances"`},
		{`{"instances"`, "request JSON"},
	}
	for _, e := range errs {
		status, resp, _ := call(t, "POST", ts.url+"/v1/models/iris:predict", e.body, nil)
		if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, e.says) {
			t.Errorf("%s: %d %v, want 400 naming %q", e.body, status, resp, e.says)
		}
	}
	if status, _, _ := call(t, "POST", ts.url+"/v1/models/nope:predict", body, nil); status != 404 {
		t.Errorf("unknown model: %d", status)
	}
	if status, _, _ := call(t, "POST", ts.url+"/v1/models/iris:explain", body, nil); status != 404 {
		t.Errorf("unknown verb: %d", status)
	}
	if status, resp, _ := call(t, "GET", ts.url+"/v1/models/iris", "", nil); status != 200 || resp["ready"] != true {
		t.Errorf("V1 model status: %d %v", status, resp)
	}
}

// TestV1Images sends base64 PNGs to a small CNN image artifact and checks
// the answers against predict.Images on the same pictures.
func TestV1Images(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "digits")
	m, err := model.New(model.Spec{
		Name: "digits", Task: "classification",
		Architecture: model.Architecture{Kind: "cnn", Input: []int{1, 8, 8}, Outputs: 3, Channels: []int{4}, Hidden: []int{8}},
		Labels:       []string{"a", "b", "c"},
		Image:        &model.ImageInput{Channels: 1, Height: 8, Width: 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Options{Model: dir})
	var imgs []image.Image
	var instances []string
	for k := range 3 {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range img.Pix {
			img.Pix[i] = uint8((i*37 + k*91) % 256)
		}
		img.Set(k, k, color.Gray{255})
		var buf bytes.Buffer
		png.Encode(&buf, img)
		imgs = append(imgs, img)
		b64 := base64.StdEncoding.EncodeToString(buf.Bytes())
		if k == 0 {
			instances = append(instances, `"`+b64+`"`)
		} else {
			instances = append(instances, `{"b64":"`+b64+`"}`)
		}
	}
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Images(imgs)
	if err != nil {
		t.Fatal(err)
	}
	status, resp, _ := call(t, "POST", ts.url+"/v1/models/digits:predict", `{"instances":[`+strings.Join(instances, ",")+`]}`, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	for i, pr := range resp["predictions"].([]any) {
		m := pr.(map[string]any)
		probs := m["probabilities"].(map[string]any)
		if m["label"] != want.Label(i) || !near([]float32{float32(probs["b"].(float64))}, []float32{want.Probs[3*i+1]}) {
			t.Errorf("image %d: %v, predict says %s %v", i, m, want.Label(i), want.Probs[3*i:3*i+3])
		}
	}
	// A valid PNG header declaring 100000 x 100000 pixels: refused from
	// its header, before any decoding allocates.
	var bomb bytes.Buffer
	bomb.WriteString("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	binary.Write(&bomb, binary.BigEndian, [2]uint32{100000, 100000})
	bomb.Write([]byte{8, 0, 0, 0, 0})
	binary.Write(&bomb, binary.BigEndian, crc32.ChecksumIEEE(bomb.Bytes()[12:]))
	status, resp, _ = call(t, "POST", ts.url+"/v1/models/digits:predict", `{"instances":["`+base64.StdEncoding.EncodeToString(bomb.Bytes())+`"]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, "instance 0") {
		t.Errorf("a PNG declaring 10^10 pixels: %d %v", status, resp)
	}
	status, resp, _ = call(t, "POST", ts.url+"/v1/models/digits:predict", `{"instances":["bm90IGFuIGltYWdl"]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, "instance 0: image: unknown format") {
		t.Errorf("not an image: %d %v", status, resp)
	}
}

// TestV1Prompts trains a tiny character language model on
// testdata/configs/tiny.txt and continues prompts over V1: the text is
// predict.Generate's for the same prompt, length, temperature and seed.
func TestV1Prompts(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "lm.yaml")
	tiny, err := filepath.Abs(filepath.Join("..", "testdata", "configs", "tiny.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, `name: lm
data:
  path: `+tiny+`
  format: text
  text: {level: char, seq: 8}
  split: {val: 0.2, test: 0}
model: {kind: transformer, causal: true, d_model: 8, heads: 2}
train: {epochs: 1, batch_size: 4, optimizer: {name: adam, lr: 0.01}, seed: 1}
`)
	cfg, err := train.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(context.Background(), cfg, filepath.Join(dir, "run"), train.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Options{Model: res.ModelDir})
	p, err := predict.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Generate("Call me", 12, 0.5, 7)
	if err != nil {
		t.Fatal(err)
	}
	status, resp, _ := call(t, "POST", ts.url+"/v1/models/lm:predict", `{"instances":[{"prompt":"Call me","length":12,"temperature":0.5,"seed":7},"Some"]}`, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	preds := resp["predictions"].([]any)
	if got := preds[0].(map[string]any)["text"]; got != want {
		t.Errorf("continuation %q, predict.Generate gives %q", got, want)
	}
	if got := preds[1].(map[string]any)["text"].(string); !strings.HasPrefix(got, "Some") || len(got) != len("Some")+DefaultGenerateLength {
		t.Errorf("plain prompt continued to %q", got)
	}
	status, resp, _ = call(t, "POST", ts.url+"/v1/models/lm:predict", `{"instances":[{"prompt":"Call","length":-1}]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, "length -1") {
		t.Errorf("negative length: %d %v", status, resp)
	}
	status, resp, _ = call(t, "POST", ts.url+"/v2/models/lm/infer", `{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, "language model") {
		t.Errorf("V2 to a language model: %d %v", status, resp)
	}
}

// TestV1Windows trains a small forecaster on a synthetic series and sends
// it time-ordered records: one prediction per window, each naming its
// row, equal to predict.Frame on the same rows.
func TestV1Windows(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("value\n")
	for i := range 120 {
		fmt.Fprintf(&csv, "%.4f\n", 10+5*math.Sin(float64(i)/3))
	}
	writeFile(t, filepath.Join(dir, "series.csv"), csv.String())
	writeFile(t, filepath.Join(dir, "w.yaml"), `name: series
task: regression
data:
  path: series.csv
  format: csv
  target: value
  features: [{name: value, type: numeric}]
  window: {length: 4, target: next}
  split: {val: 0.1, test: 0.1}
preprocessing: {numeric: standardize}
model: {kind: gru, hidden_size: 4}
train: {epochs: 2, batch_size: 16, optimizer: {name: adam, lr: 0.01}, seed: 1}
`)
	cfg, err := train.LoadConfig(filepath.Join(dir, "w.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(context.Background(), cfg, filepath.Join(dir, "run"), train.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Options{Model: res.ModelDir})
	p, err := predict.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	var values []float64
	var instances []string
	for i := range 7 {
		v := 10 + 5*math.Sin(float64(i)/3)
		values = append(values, v)
		instances = append(instances, fmt.Sprintf(`{"value":%v}`, v))
	}
	f := &data.Frame{}
	if err := f.AddNumeric("value", values); err != nil {
		t.Fatal(err)
	}
	want, err := p.Frame(f, "")
	if err != nil {
		t.Fatal(err)
	}
	status, resp, _ := call(t, "POST", ts.url+"/v1/models/series:predict", `{"instances":[`+strings.Join(instances, ",")+`]}`, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	preds := resp["predictions"].([]any)
	if len(preds) != want.N || want.N == 0 {
		t.Fatalf("%d predictions, predict.Frame gives %d", len(preds), want.N)
	}
	for i, pr := range preds {
		m := pr.(map[string]any)
		if !near([]float32{float32(m["value"].(float64))}, []float32{want.Values[i]}) || m["row"] != float64(want.Rows[i]) {
			t.Errorf("window %d: %v, predict says %v at row %d", i, m, want.Values[i], want.Rows[i])
		}
	}
	status, resp, _ = call(t, "POST", ts.url+"/v1/models/series:predict", `{"instances":[{"value":1},{"value":2}]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, "window") {
		t.Errorf("too few rows for a window: %d %v", status, resp)
	}
}
