package train

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/report"
)

// writeIDXPair writes n images of size x size pixels in two classes
// (class 0 bright on the top rows, class 1 on the left columns, with some
// noise) to dir/<prefix>-images-idx3-ubyte and its labels to
// dir/<prefix>-labels-idx1-ubyte, and returns both paths.
func writeIDXPair(t *testing.T, dir, prefix string, n, size int) (string, string) {
	t.Helper()
	img := binary.BigEndian.AppendUint32(nil, 0x0803)
	for _, d := range []int{n, size, size} {
		img = binary.BigEndian.AppendUint32(img, uint32(d))
	}
	lab := binary.BigEndian.AppendUint32(nil, 0x0801)
	lab = binary.BigEndian.AppendUint32(lab, uint32(n))
	for i := range n {
		c := i % 2
		lab = append(lab, byte(c))
		for y := range size {
			for x := range size {
				v := byte((i*7 + y*13 + x*5) % 40)
				if (c == 0 && y < size/2) || (c == 1 && x < size/2) {
					v = 255 - v
				}
				img = append(img, v)
			}
		}
	}
	ip := filepath.Join(dir, prefix+"-images-idx3-ubyte")
	lp := filepath.Join(dir, prefix+"-labels-idx1-ubyte")
	if err := os.WriteFile(ip, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lp, lab, 0o644); err != nil {
		t.Fatal(err)
	}
	return ip, lp
}

// splitInputs returns, for every sample of the train, val and test
// datasets of p (no augmentation), its index in the source data and the
// model input training fed the network.
func splitInputs(t *testing.T, p *prepared) map[int][]float32 {
	t.Helper()
	out := map[int][]float32{}
	for _, ds := range []data.Dataset{p.trainDS, p.valDS, p.testDS} {
		var sub *data.Subset
		switch d := ds.(type) {
		case *appliedImages:
			sub = d.Dataset.(*data.Subset)
		case *data.Subset:
			sub = d
		default:
			t.Fatalf("unexpected dataset %T", ds)
		}
		sz := prod(ds.Spec().XShape)
		for i, j := range sub.Indices {
			s := data.Sample{X: make([]float32, sz), Y: make([]int64, 1)}
			if err := ds.Get(i, s); err != nil {
				t.Fatal(err)
			}
			out[j] = s.X
		}
	}
	return out
}

// checkSameInputs fails unless every image read for serving equals, bit
// for bit, the input training gave the network for that image.
func checkSameInputs(t *testing.T, s *predict.ImageSamples, train map[int][]float32) {
	t.Helper()
	if len(train) != s.N {
		t.Fatalf("training saw %d images, ReadImages read %d", len(train), s.N)
	}
	sz := len(s.X) / s.N
	for j, want := range train {
		got := s.X[j*sz : (j+1)*sz]
		for k := range want {
			if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
				t.Fatalf("image %d value %d: serving input %v, training input %v", j, k, got[k], want[k])
			}
		}
	}
}

// TestImageNormalizeArtifact trains on IDX images with normalize, then
// checks that the statistics come from the training split only and that
// the reloaded artifact turns the IDX file into exactly the inputs
// training used.
func TestImageNormalizeArtifact(t *testing.T) {
	dir := t.TempDir()
	ip, _ := writeIDXPair(t, dir, "toy", 40, 6)
	cfgPath := filepath.Join(dir, "toy.yaml")
	yml := `data:
  path: toy-images-idx3-ubyte
  labels: toy-labels-idx1-ubyte
  split: {val: 0.2, test: 0.2, seed: 3}
preprocessing:
  image: {normalize: true}
model: {kind: mlp, hidden: [8]}
train: {epochs: 3, batch_size: 8, optimizer: {lr: 0.01}}
`
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(cfg, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.LoadMNIST(ip, cfg.DataPath(cfg.Data.Labels))
	if err != nil {
		t.Fatal(err)
	}
	tr := p.trainDS.(*appliedImages).Dataset.(*data.Subset).Indices
	want, err := data.FitImageNormalizeRows(ds.X, 1, 6, 6, tr)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := data.FitImageNormalize(ds.X, 1, 6, 6)
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Spec.Image
	if in == nil || in.Normalize == nil || !slices.Equal(in.Shape(), []int{1, 6, 6}) {
		t.Fatalf("reloaded image input %+v", in)
	}
	if !slices.Equal(in.Normalize.Mean, want.Mean) || !slices.Equal(in.Normalize.Std, want.Std) {
		t.Errorf("saved normalisation %+v, the training split gives %+v", in.Normalize, want)
	}
	if slices.Equal(all.Mean, want.Mean) {
		t.Errorf("the test data should change the mean (%v); the check above proves nothing", all.Mean)
	}

	// The labels file is found by name; inputs match training bit for bit.
	s, err := predictor(t, m).ReadImages(ip, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Labels, ds.Y) || s.Names[3] != ip+"[3]" {
		t.Fatalf("labels %v names %v", s.Labels, s.Names[:4])
	}
	checkSameInputs(t, s, splitInputs(t, p))
	ev, err := predictor(t, m).EvaluateImages(s)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Samples != 40 || ev.Report.Accuracy < 0.9 {
		t.Errorf("evaluation: %d samples, accuracy %v", ev.Samples, ev.Report.Accuracy)
	}
	pr, err := predictor(t, m).Tensor(s.X, s.N)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Class) != 40 || len(pr.Probs) != 80 {
		t.Errorf("predictions %d classes, %d probabilities", len(pr.Class), len(pr.Probs))
	}

	// The profile describes the raw training pixels and labels.
	pf := m.Profile
	if pf == nil || pf.Rows != len(tr) || pf.Feature("pixel_c0") == nil || pf.Feature("pixel_mean_c0") == nil {
		t.Fatalf("profile %+v", pf)
	}
	if c := pf.Feature("pixel_c0"); c.Count != len(tr)*36 || math.Abs(c.Mean-float64(want.Mean[0])) > 1e-6 || c.Min < 0 || c.Max > 1 {
		t.Errorf("pixel profile %+v", c)
	}
	n := 0
	for _, l := range pf.Labels {
		n += l.Count
	}
	if n != len(tr) || len(pf.Labels) != 2 {
		t.Errorf("label profile %+v", pf.Labels)
	}

	// An explicit labels file of the wrong length is an error naming both.
	_, lp2 := writeIDXPair(t, t.TempDir(), "other", 5, 6)
	if _, err := predictor(t, m).ReadImages(ip, lp2); err == nil || !strings.Contains(err.Error(), lp2) || !strings.Contains(err.Error(), ip) {
		t.Errorf("wrong labels file: %v", err)
	}
	// A PNG of another size is resized to the model's input.
	x, err := predictor(t, m).ReadImages(filepath.Join("..", "testdata", "images", "vertical", "0.png"), "")
	if err != nil || x.N != 1 || len(x.X) != 36 || x.Labels != nil {
		t.Errorf("PNG for an IDX model: %v %+v", err, x)
	}
}

// TestImageFolderArtifact trains on the committed PNG folder (RGB, with
// normalisation) and reads it back for evaluation and prediction.
func TestImageFolderArtifact(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "testdata", "images"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "stripes.yaml")
	yml := "data:\n  path: " + root + "\n  format: images\n  image: {width: 8, height: 8}\n  split: {val: 0, test: 0.25}\n" +
		"preprocessing:\n  image: {normalize: true}\nmodel: {kind: cnn, channels: [4], hidden: [8]}\ntrain: {epochs: 8, batch_size: 4, optimizer: {lr: 0.01}}\n"
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Spec.Image; in == nil || in.Normalize == nil || len(in.Normalize.Mean) != 3 || !slices.Equal(m.Spec.Labels, []string{"horizontal", "vertical"}) {
		t.Fatalf("spec image %+v labels %v", m.Spec.Image, m.Spec.Labels)
	}
	if f := m.Profile.Feature("pixel_mean_c2"); f == nil || f.Count != res.Sizes[report.SplitTrain] {
		t.Errorf("profile has no per-image mean of channel 2: %+v", m.Profile.Features)
	}
	s, err := predictor(t, m).ReadImages(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 8 || !slices.Equal(s.Labels, []int64{0, 0, 0, 0, 1, 1, 1, 1}) {
		t.Fatalf("read %d images, labels %v", s.N, s.Labels)
	}
	p, err := prepare(cfg, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checkSameInputs(t, s, splitInputs(t, p))
	if _, err := predictor(t, m).EvaluateImages(s); err != nil {
		t.Fatal(err)
	}
	// One file, and a flat folder of files, read as in the class folders.
	one, err := predictor(t, m).ReadImages(filepath.Join(root, "vertical", "2.png"), "")
	if err != nil || one.N != 1 || one.Labels != nil || !slices.Equal(one.X, s.X[6*192:7*192]) {
		t.Fatalf("single file: %v", err)
	}
	flat, err := predictor(t, m).ReadImages(filepath.Join(root, "horizontal"), "")
	if err != nil || flat.N != 4 || flat.Labels != nil || !slices.Equal(flat.X, s.X[:4*192]) {
		t.Fatalf("flat folder: %v", err)
	}
	if _, err := predictor(t, m).EvaluateImages(flat); err == nil {
		t.Error("evaluation without labels succeeded")
	}
	// A class folder the model does not know is an error naming it.
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "diagonal"), 0o755)
	b, _ := os.ReadFile(filepath.Join(root, "vertical", "0.png"))
	os.WriteFile(filepath.Join(bad, "diagonal", "x.png"), b, 0o644)
	if _, err := predictor(t, m).ReadImages(bad, ""); err == nil || !strings.Contains(err.Error(), `"diagonal"`) {
		t.Errorf("unknown class folder: %v", err)
	}
	// An IDX file of another size is resized and turned RGB.
	ip, lp := writeIDXPair(t, t.TempDir(), "g", 4, 5)
	if s, err := predictor(t, m).ReadImages(ip, lp); err != nil || s.N != 4 || len(s.X) != 4*192 {
		t.Errorf("IDX for an RGB 8x8 model: %v", err)
	}
	// A table model refuses images.
	iris, _ := trainIris(t)
	if _, err := predictor(t, iris.Model).ReadImages(root, ""); err == nil || !strings.Contains(err.Error(), "table rows") {
		t.Errorf("images for a table model: %v", err)
	}
}

func TestIDXLabelsFor(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"t10k-labels-idx1-ubyte.gz", "labels.idx"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	for in, want := range map[string]string{
		"t10k-images-idx3-ubyte.gz": "t10k-labels-idx1-ubyte.gz",
		"images.idx":                "labels.idx",
		"train-images-idx3-ubyte":   "",
	} {
		got := predict.IDXLabelsFor(filepath.Join(dir, in))
		if want != "" {
			want = filepath.Join(dir, want)
		}
		if got != want {
			t.Errorf("IDXLabelsFor(%s) = %q, want %q", in, got, want)
		}
	}
}

// FuzzReadImagesIDX feeds arbitrary bytes as an IDX images file to an
// image model (1x4x4, normalised): an error or inputs of the right size,
// never a panic.
func FuzzReadImagesIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 1, 7})
	spec := model.Spec{Name: "fuzz", Task: Classification, Labels: []string{"a", "b"},
		Architecture: model.Architecture{Kind: "mlp", Input: []int{1, 4, 4}, Outputs: 2},
		Image:        &model.ImageInput{Channels: 1, Height: 4, Width: 4, Normalize: &data.ImageNormalize{Mean: []float32{0.5}, Std: []float32{0.25}}}}
	m, err := model.New(spec)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "x-images-idx3-ubyte")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := predictor(t, m).ReadImages(p, "")
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if s.N <= 0 || len(s.X) != s.N*16 || len(s.Names) != s.N || s.Labels != nil {
			t.Fatalf("read %d images, %d values, %d names", s.N, len(s.X), len(s.Names))
		}
	})
}

// data.class_names names an IDX file's classes: the artifact, its
// predictions and evaluation say names; a label beyond the names is an
// error naming the labels file and the value.
func TestIDXClassNames(t *testing.T) {
	dir := t.TempDir()
	ip, lp := writeIDXPair(t, dir, "toy", 40, 6)
	yml := `data:
  path: toy-images-idx3-ubyte
  labels: toy-labels-idx1-ubyte
  class_names: [top, left]
model: {kind: mlp, hidden: [8]}
train: {epochs: 2, batch_size: 8}
`
	cfg, err := ParseConfig(filepath.Join(dir, "toy.yaml"), []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, filepath.Join(dir, "run"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Model.Spec.Labels, []string{"top", "left"}) {
		t.Fatalf("labels %v", res.Model.Spec.Labels)
	}
	p := predictor(t, res.Model)
	s, err := p.ReadImages(ip, lp)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Tensor(s.X, s.N)
	if err != nil || (r.Label(0) != "top" && r.Label(0) != "left") {
		t.Fatalf("prediction %v, %v", r, err)
	}
	if _, err := p.EvaluateImages(s); err != nil {
		t.Fatal(err)
	}
	cfg, err = ParseConfig(filepath.Join(dir, "toy.yaml"), []byte(strings.Replace(yml, "[top, left]", "[top]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, filepath.Join(dir, "run2"), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "data.class_names") || !strings.Contains(err.Error(), "toy-labels-idx1-ubyte holds the label 1") {
		t.Errorf("one name for two classes: %v", err)
	}
}
