package data

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// writeImages makes root/{cats,dogs} with small solid-colour images.
func writeImages(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	solid := func(w, h int, c color.RGBA) image.Image {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.SetRGBA(x, y, c)
			}
		}
		return m
	}
	write := func(rel string, img image.Image) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if strings.HasSuffix(rel, ".png") {
			err = png.Encode(f, img)
		} else {
			err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("dogs/a.png", solid(8, 6, color.RGBA{255, 0, 0, 255}))
	write("dogs/b.jpg", solid(5, 5, color.RGBA{0, 0, 255, 255}))
	write("cats/c.png", solid(4, 4, color.RGBA{0, 255, 0, 255}))
	return root
}

func TestReadImageFolder(t *testing.T) {
	root := writeImages(t)
	os.WriteFile(filepath.Join(root, "cats", "notes.txt"), []byte("skip me"), 0o644)
	d, err := ReadImageFolder(root, ImageOptions{Width: 3, Height: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Classes, []string{"cats", "dogs"}) || d.N != 3 || !slices.Equal(d.Labels, []int64{0, 1, 1}) {
		t.Fatalf("classes %v n %d labels %v", d.Classes, d.N, d.Labels)
	}
	if !slices.Equal(d.Spec().XShape, []int{3, 2, 3}) || len(d.X) != 3*18 {
		t.Fatalf("shape %v len %d", d.Spec().XShape, len(d.X))
	}
	// cats/c.png is green: channel 1 all ones, others zero.
	for i := 0; i < 6; i++ {
		if d.X[i] != 0 || d.X[6+i] != 1 || d.X[12+i] != 0 {
			t.Fatalf("green image CHW = %v", d.X[:18])
		}
	}
	// dogs/a.png is red.
	if d.X[18] != 1 || d.X[24] != 0 {
		t.Errorf("red image = %v", d.X[18:36])
	}
	// JPEG blue, within compression error.
	if d.X[36+12] < 0.9 || d.X[36] > 0.1 {
		t.Errorf("blue jpeg = %v", d.X[36:54])
	}
	g, err := ReadImageFolder(root, ImageOptions{Width: 2, Height: 2, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.C != 1 || !near(float64(g.X[0]), 0.587, 1e-6) || !near(float64(g.X[4]), 0.299, 1e-6) {
		t.Errorf("grey = %v", g.X)
	}
	os.WriteFile(filepath.Join(root, "cats", "broken.png"), []byte("not a png"), 0o644)
	if _, err := ReadImageFolder(root, ImageOptions{Width: 2, Height: 2}); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("broken image: %v", err)
	}
	if _, err := ReadImageFolder(t.TempDir(), ImageOptions{Width: 2, Height: 2}); err == nil {
		t.Error("empty folder accepted")
	}
}

func TestImageNormalizeAugment(t *testing.T) {
	// Two 2-channel 2x2 images.
	x := []float32{
		0, 1, 2, 3, 10, 10, 10, 10,
		4, 5, 6, 7, 10, 10, 10, 10,
	}
	m, err := FitImageNormalize(x, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// channel 0: 0..7, mean 3.5, population var 5.25; channel 1 constant -> std 1.
	if m.Mean[0] != 3.5 || !near(float64(m.Std[0]), 2.2912878, 1e-6) || m.Mean[1] != 10 || m.Std[1] != 1 {
		t.Errorf("fit %+v", m)
	}
	b, _ := json.Marshal(m)
	var m2 ImageNormalize
	json.Unmarshal(b, &m2)
	y := slices.Clone(x)
	if err := m2.Apply(y, 2, 2); err != nil {
		t.Fatal(err)
	}
	if y[0] != -3.5/m.Std[0] || y[4] != 0 || y[8] != 0.5/m.Std[0] {
		t.Errorf("normalised %v", y)
	}
	if err := m.Apply(y[:7], 2, 2); err == nil {
		t.Error("bad length accepted")
	}

	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} // one channel 3x3
	dst := make([]float32, 9)
	flip := ImageAugment{HFlip: true}
	flip.Apply(dst, src, 1, 3, 3, fixed{1})
	if !slices.Equal(dst, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7}) {
		t.Errorf("flip %v", dst)
	}
	crop := ImageAugment{Pad: 1}
	crop.Apply(dst, src, 1, 3, 3, fixed{2}) // dy = dx = +1
	if !slices.Equal(dst, []float32{5, 6, 0, 8, 9, 0, 0, 0, 0}) {
		t.Errorf("crop %v", dst)
	}

	// Augmented dataset: reproducible per (seed, epoch, index).
	imgs := make([]float32, 20*9)
	for i := range imgs {
		imgs[i] = float32(i % 9)
	}
	base, _ := NewArrayDataset(imgs, []int{1, 3, 3}, make([]int64, 20))
	aug := &Augmented{Base: base, Aug: ImageAugment{Pad: 1, HFlip: true}, Seed: 9}
	run := func(workers, epoch int) []float32 {
		l, _ := NewLoader(aug, LoaderOptions{BatchSize: 4, Prefetch: 2, Workers: workers})
		var out []float32
		for b, err := range l.Epoch(epoch) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b.X...)
		}
		return out
	}
	a, b2, c := run(1, 0), run(3, 0), run(1, 1)
	if !slices.Equal(a, b2) {
		t.Error("augmentation depends on the number of workers")
	}
	if slices.Equal(a, c) {
		t.Error("augmentation identical across epochs")
	}
}

// fixed is a generator that always returns v (mod n).
type fixed struct{ v int }

func (f fixed) IntN(n int) int { return f.v % n }

func TestFitImageNormalizeRows(t *testing.T) {
	// Two 1-channel 1x2 images; fitting on image 1 only.
	x := []float32{0, 0, 1, 3}
	m, err := FitImageNormalizeRows(x, 1, 1, 2, []int{1})
	if err != nil || m.Mean[0] != 2 || m.Std[0] != 1 {
		t.Fatalf("%+v %v", m, err)
	}
	all, _ := FitImageNormalize(x, 1, 1, 2)
	same, _ := FitImageNormalizeRows(x, 1, 1, 2, []int{0, 1})
	if !reflect.DeepEqual(all, same) {
		t.Errorf("all rows %+v, FitImageNormalize %+v", same, all)
	}
	for _, rows := range [][]int{{2}, {-1}, {}} {
		if _, err := FitImageNormalizeRows(x, 1, 1, 2, rows); err == nil {
			t.Errorf("rows %v: no error", rows)
		}
	}
}
