package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG decoding
	_ "image/png"  // register PNG decoding
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/shenml/shen/internal/safeio"
	"golang.org/x/image/draw"
)

// ImageOptions controls ReadImageFolder.
type ImageOptions struct {
	// Width and Height are the output size (required); images are resized
	// with bilinear interpolation, ignoring aspect ratio.
	Width, Height int
	// Gray converts to one channel (ITU-R 601 luma); otherwise RGB.
	Gray bool
}

// ImageFolder holds images read from class sub-folders, as CHW float32 in
// [0,1]. It is a Dataset with one class label per sample.
type ImageFolder struct {
	// X holds N*C*H*W values, sample-major, each sample CHW.
	X       []float32
	N       int
	C, H, W int
	// Labels holds the class index of each image, into Classes.
	Labels []int64
	// Classes are the sub-folder names, sorted.
	Classes []string
	// Paths holds each image's file path.
	Paths []string
}

// ReadImageFolder reads root/<class>/<image> for every sub-folder of root
// (classes sorted by name, files by name). Files ending in .png, .jpg or
// .jpeg (any case) are decoded with the standard library; other files are
// skipped; an undecodable image is an error naming its path. Transparent
// pixels are composited over black. Every image is held in memory.
func ReadImageFolder(root string, opts ImageOptions) (*ImageFolder, error) {
	if opts.Width <= 0 || opts.Height <= 0 {
		return nil, fmt.Errorf("data: image folder %s: output size %dx%d must be positive", root, opts.Width, opts.Height)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	d := &ImageFolder{C: 3, H: opts.Height, W: opts.Width}
	if opts.Gray {
		d.C = 1
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			d.Classes = append(d.Classes, e.Name())
		}
	}
	slices.Sort(d.Classes)
	if len(d.Classes) == 0 {
		return nil, fmt.Errorf("data: image folder %s has no class sub-folders", root)
	}
	for ci, class := range d.Classes {
		files, err := os.ReadDir(filepath.Join(root, class))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		for _, fe := range files {
			ext := strings.ToLower(filepath.Ext(fe.Name()))
			if fe.IsDir() || (ext != ".png" && ext != ".jpg" && ext != ".jpeg") {
				continue
			}
			d.Paths = append(d.Paths, filepath.Join(root, class, fe.Name()))
			d.Labels = append(d.Labels, int64(ci))
		}
	}
	d.N = len(d.Paths)
	if d.N == 0 {
		return nil, fmt.Errorf("data: image folder %s has no .png or .jpg files in its class folders", root)
	}
	sz := d.C * d.H * d.W
	d.X = make([]float32, d.N*sz)
	// Decode in parallel: each image writes its own slice of X.
	var wg sync.WaitGroup
	errs := make([]error, d.N)
	sem := make(chan struct{}, 8)
	for i, p := range d.Paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = loadImage(p, d.X[i*sz:(i+1)*sz], d.C, d.H, d.W)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

// LoadImage decodes one PNG or JPEG file into a CHW float32 slice in [0,1]
// with c channels (1 or 3), resized to h x w bilinearly. Serving uses it to
// read images exactly as training did.
func LoadImage(path string, c, h, w int) ([]float32, error) {
	if (c != 1 && c != 3) || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("data: image %s: invalid output shape %dx%dx%d", path, c, h, w)
	}
	out := make([]float32, c*h*w)
	return out, loadImage(path, out, c, h, w)
}

func loadImage(path string, dst []float32, c, h, w int) error {
	b, err := safeio.ReadFile(path, MaxImageFileBytes)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	img, err := DecodeImage(b, path)
	if err != nil {
		return err
	}
	return ImageToCHW(img, dst, c, h, w)
}

// Bounds on image files: what a file may hold, and the pixels its header
// may declare (a 7000 x 4600 photo has 32 million). A PNG of a few hundred
// bytes can declare 100000 x 100000 pixels, 40 GB once decoded; the header
// is checked before the decoder allocates.
const (
	MaxImageFileBytes = 256 << 20
	MaxImagePixels    = 1 << 25
)

// DecodeImage decodes a PNG or JPEG held in b, first reading its header
// and refusing more than MaxImagePixels pixels or an empty image. name is
// used in errors (a file path, or a request's field).
func DecodeImage(b []byte, name string) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: image %s: %w", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImagePixels/cfg.Height {
		return nil, fmt.Errorf("data: image %s: its %s header declares %dx%d pixels; at most %d pixels in all are decoded", name, format, cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: image %s: %w", name, err)
	}
	return img, nil
}

// ImageToCHW resizes img to h x w (bilinear) and writes it into dst
// (len c*h*w) as CHW float32 in [0,1], grey when c is 1, RGB when c is 3.
func ImageToCHW(img image.Image, dst []float32, c, h, w int) error {
	if len(dst) != c*h*w || (c != 1 && c != 3) {
		return fmt.Errorf("data: image buffer of %d values does not match %dx%dx%d", len(dst), c, h, w)
	}
	if img.Bounds().Empty() {
		return errors.New("data: empty image")
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(rgba, rgba.Bounds(), img, img.Bounds(), draw.Src, nil)
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := rgba.PixOffset(x, y)
			r := float32(rgba.Pix[o]) / 255
			g := float32(rgba.Pix[o+1]) / 255
			b := float32(rgba.Pix[o+2]) / 255
			i := y*w + x
			if c == 1 {
				dst[i] = 0.299*r + 0.587*g + 0.114*b
			} else {
				dst[i], dst[plane+i], dst[2*plane+i] = r, g, b
			}
		}
	}
	return nil
}

// Len returns the number of images.
func (d *ImageFolder) Len() int { return d.N }

// Spec returns XShape [C H W] and one label.
func (d *ImageFolder) Spec() Spec { return Spec{XShape: []int{d.C, d.H, d.W}, YLen: 1} }

// Get copies image i and its label into s.
func (d *ImageFolder) Get(i int, s Sample) error {
	if i < 0 || i >= d.N {
		return fmt.Errorf("data: image %d out of range [0,%d)", i, d.N)
	}
	sz := d.C * d.H * d.W
	copy(s.X, d.X[i*sz:(i+1)*sz])
	s.Y[0] = d.Labels[i]
	return nil
}

// ImageNormalize standardises each channel of CHW images with fitted
// per-channel mean and std: x' = (x-mean[c])/std[c]. It marshals to JSON as
// {"mean":[...],"std":[...]}.
type ImageNormalize struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
}

// FitImageNormalize computes per-channel mean and population std over n
// CHW images stored in x (training split only). A std of 0 becomes 1.
func FitImageNormalize(x []float32, c, h, w int) (*ImageNormalize, error) {
	return FitImageNormalizeRows(x, c, h, w, nil)
}

// FitImageNormalizeRows is FitImageNormalize over the images of x whose
// indices are in rows (all images when rows is nil), so the statistics of
// a training split are fitted without copying it. Two passes in float64:
// O(len(rows)·c·h·w) time, no allocation but the result.
func FitImageNormalizeRows(x []float32, c, h, w int, rows []int) (*ImageNormalize, error) {
	sz := c * h * w
	if c <= 0 || h <= 0 || w <= 0 || len(x) == 0 || len(x)%sz != 0 {
		return nil, fmt.Errorf("data: %d values are not whole %dx%dx%d images", len(x), c, h, w)
	}
	n := len(x) / sz
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("data: image %d out of range [0,%d)", r, n)
		}
	}
	cnt := n
	if rows != nil {
		cnt = len(rows)
	}
	if cnt == 0 {
		return nil, errors.New("data: no images to fit the normalisation on")
	}
	img := func(k int) int {
		if rows != nil {
			return rows[k]
		}
		return k
	}
	m := &ImageNormalize{Mean: make([]float32, c), Std: make([]float32, c)}
	plane := h * w
	for ch := 0; ch < c; ch++ {
		var sum, ss float64
		for k := 0; k < cnt; k++ {
			i := img(k)
			for _, v := range x[i*sz+ch*plane : i*sz+(ch+1)*plane] {
				sum += float64(v)
			}
		}
		total := float64(cnt * plane)
		mean := sum / total
		for k := 0; k < cnt; k++ {
			i := img(k)
			for _, v := range x[i*sz+ch*plane : i*sz+(ch+1)*plane] {
				d := float64(v) - mean
				ss += d * d
			}
		}
		std := math.Sqrt(ss / total)
		if std == 0 {
			std = 1
		}
		m.Mean[ch], m.Std[ch] = float32(mean), float32(std)
	}
	return m, nil
}

// Apply normalises CHW images in x in place (any number of images).
func (m *ImageNormalize) Apply(x []float32, h, w int) error {
	c := len(m.Mean)
	if c == 0 || len(m.Std) != c || h <= 0 || w <= 0 || len(x)%(c*h*w) != 0 {
		return fmt.Errorf("data: image normalise: %d values do not fit %d channels of %dx%d", len(x), c, h, w)
	}
	plane := h * w
	for i := 0; i < len(x); i += plane {
		ch := (i / plane) % c
		mu, sd := m.Mean[ch], m.Std[ch]
		for j := i; j < i+plane; j++ {
			x[j] = (x[j] - mu) / sd
		}
	}
	return nil
}

// ImageAugment is training-time augmentation of CHW images: a random crop
// of the image padded by Pad pixels of zeros on every side, and a horizontal
// flip with probability 1/2 when HFlip. Serialisable to JSON.
type ImageAugment struct {
	Pad   int  `json:"pad"`
	HFlip bool `json:"hflip"`
}

// Apply writes an augmented copy of src into dst (both c*h*w, not
// overlapping), drawing offsets and the flip from rng.
func (a *ImageAugment) Apply(dst, src []float32, c, h, w int, rng interface{ IntN(int) int }) {
	dy, dx := 0, 0
	if a.Pad > 0 {
		dy = rng.IntN(2*a.Pad+1) - a.Pad
		dx = rng.IntN(2*a.Pad+1) - a.Pad
	}
	flip := a.HFlip && rng.IntN(2) == 1
	for ch := 0; ch < c; ch++ {
		plane := ch * h * w
		for y := 0; y < h; y++ {
			sy := y + dy
			for x := 0; x < w; x++ {
				sx := x + dx
				if flip {
					sx = w - 1 - x + dx
				}
				v := float32(0)
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					v = src[plane+sy*w+sx]
				}
				dst[plane+y*w+x] = v
			}
		}
	}
}

// Augmented wraps an image Dataset (XShape [C H W]) with seeded
// augmentation and optional normalisation. Sample i of epoch e uses a
// generator seeded from (Seed, e, i), so batches are reproducible whatever
// the number of prefetch workers.
type Augmented struct {
	Base      Dataset
	Aug       ImageAugment
	Normalize *ImageNormalize
	Seed      uint64
	epoch     int
	mu        sync.Mutex
	bufs      sync.Pool
}

// SetEpoch selects the epoch whose random draws Get uses.
func (a *Augmented) SetEpoch(e int) {
	a.mu.Lock()
	a.epoch = e
	a.mu.Unlock()
	if es, ok := a.Base.(EpochSetter); ok {
		es.SetEpoch(e)
	}
}

// Len returns the base length.
func (a *Augmented) Len() int { return a.Base.Len() }

// Spec returns the base spec.
func (a *Augmented) Spec() Spec { return a.Base.Spec() }

// Get reads sample i from the base, then augments and normalises it.
func (a *Augmented) Get(i int, s Sample) error {
	spec := a.Base.Spec()
	if len(spec.XShape) != 3 {
		return fmt.Errorf("data: augment needs CHW samples, got shape %v", spec.XShape)
	}
	c, h, w := spec.XShape[0], spec.XShape[1], spec.XShape[2]
	bp, _ := a.bufs.Get().(*[]float32)
	if bp == nil || len(*bp) != len(s.X) {
		b := make([]float32, len(s.X))
		bp = &b
	}
	defer a.bufs.Put(bp)
	src := *bp
	tmp := s
	tmp.X = src
	if err := a.Base.Get(i, tmp); err != nil {
		return err
	}
	a.mu.Lock()
	e := a.epoch
	a.mu.Unlock()
	var r pcgInt
	r.p.Seed(a.Seed, uint64(e)<<40^uint64(i))
	a.Aug.Apply(s.X, src, c, h, w, &r)
	if a.Normalize != nil {
		return a.Normalize.Apply(s.X, h, w)
	}
	return nil
}

// pcgInt adapts a math/rand/v2 PCG held by value (no allocation) to IntN.
type pcgInt struct{ p rand.PCG }

// IntN returns a value in [0,n) (n > 0); the modulo bias is negligible for
// the small n used by augmentation.
func (r *pcgInt) IntN(n int) int { return int(r.p.Uint64() % uint64(n)) }
