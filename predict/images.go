package predict

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/metrics"
	"github.com/shenml/shen/model"
)

// ImageSamples are images read for an image model (see ReadImages): the
// model's inputs, ready for Predict, with a name and a label for each.
type ImageSamples struct {
	// X holds N inputs of the model's input shape, sample-major, after the
	// artifact's image preprocessing (model.ImageInput.Apply).
	X []float32
	N int
	// Names names each image: its file path, or "<idx file>[i]".
	Names []string
	// Labels holds the class index of each image into the model's
	// labels; nil when the input carries no labels.
	Labels []int64
}

// IsImageData reports whether path looks like image input rather than a
// table: a folder, a .png/.jpg/.jpeg file, or an IDX file (by name or by
// its magic bytes 00 00 08).
func IsImageData(path string) bool {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return true
	}
	if isImageFile(path) || data.FormatOf(path) == "idx" {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [3]byte
	n, _ := f.Read(b[:])
	return n == 3 && b[0] == 0 && b[1] == 0 && b[2] == 0x08
}

func isImageFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// IDXLabelsFor returns the IDX labels file that goes with an IDX images
// file by the MNIST naming convention (t10k-images-idx3-ubyte.gz →
// t10k-labels-idx1-ubyte.gz; images.idx → labels.idx), or "" when no
// such file exists.
func IDXLabelsFor(images string) string {
	dir, base := filepath.Split(images)
	r := strings.NewReplacer("images-idx3", "labels-idx1", "images", "labels", "idx3", "idx1")
	for _, cand := range []string{r.Replace(base), strings.NewReplacer("images", "labels").Replace(base)} {
		if cand == base {
			continue
		}
		p := filepath.Join(dir, cand)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// ReadImages reads path as input for an image model (see
// model.ImageInputOf), converting every image as training did:
//
//   - an IDX file of unsigned bytes [n, rows, cols] (gzipped or not):
//     pixels divided by 255, resized bilinearly when the model takes
//     another size; its labels come from the IDX file labels, or when
//     labels is "" from the file IDXLabelsFor finds (none if it finds none);
//   - a folder holding .png/.jpg/.jpeg files: those files, by name,
//     without labels;
//   - a folder of class sub-folders (as format images trains on): their
//     images, labelled by folder name, which must be one of m's labels;
//   - a single .png/.jpg/.jpeg file.
//
// PNG and JPEG images are resized bilinearly to the model's input size
// and turned grey (ITU-R 601 luma) or RGB as data.LoadImage does. The
// fitted normalisation of the artifact is applied last. Errors name the
// file at fault.
func (p *Predictor) ReadImages(path, labels string) (*ImageSamples, error) {
	m := p.m
	in := model.ImageInputOf(m.Spec)
	if p.kind != Image {
		return nil, fmt.Errorf("%s: the model %q takes %s, not images", path, m.Spec.Name, p.kind)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, safeio.DropOp(err)
	}
	var s *ImageSamples
	switch {
	case st.IsDir():
		if labels != "" {
			return nil, fmt.Errorf("%s: a labels file is only for IDX images; a folder is labelled by its class sub-folders", labels)
		}
		s, err = readImageDir(m, in, path)
	case isImageFile(path):
		if labels != "" {
			return nil, fmt.Errorf("%s: a labels file is only for IDX images", labels)
		}
		s = &ImageSamples{N: 1, Names: []string{path}}
		s.X, err = data.LoadImage(path, in.Channels, in.Height, in.Width)
	default:
		s, err = readIDXImages(m, in, path, labels)
	}
	if err != nil {
		return nil, err
	}
	if err := in.Apply(s.X); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// readIDXImages reads an IDX images file and its labels, if any.
func readIDXImages(m *model.Model, in *model.ImageInput, path, labels string) (*ImageSamples, error) {
	idx, err := data.ReadIDX(path)
	if err != nil {
		return nil, err
	}
	if len(idx.Dims) != 3 {
		return nil, fmt.Errorf("%s: IDX images need 3 dimensions [n, rows, cols], the file has %v", path, idx.Dims)
	}
	n, rows, cols := idx.Dims[0], idx.Dims[1], idx.Dims[2]
	if n == 0 || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("%s: IDX file holds no pixels (dimensions %v)", path, idx.Dims)
	}
	sz := in.Channels * in.Height * in.Width
	s := &ImageSamples{N: n, X: make([]float32, n*sz), Names: make([]string, n)}
	for i := range n {
		s.Names[i] = path + "[" + strconv.Itoa(i) + "]"
	}
	if in.Channels == 1 && in.Height == rows && in.Width == cols {
		// As data.LoadMNISTImages, which training reads with.
		for i, v := range idx.Data {
			s.X[i] = float32(v) / 255
		}
	} else {
		plane := rows * cols
		for i := range n {
			g := &image.Gray{Pix: idx.Data[i*plane : (i+1)*plane], Stride: cols, Rect: image.Rect(0, 0, cols, rows)}
			if err := data.ImageToCHW(g, s.X[i*sz:(i+1)*sz], in.Channels, in.Height, in.Width); err != nil {
				return nil, fmt.Errorf("%s: image %d: %w", path, i, err)
			}
		}
	}
	if labels == "" {
		labels = IDXLabelsFor(path)
	}
	if labels == "" {
		return s, nil
	}
	ys, err := data.LoadMNISTLabels(labels)
	if err != nil {
		return nil, err
	}
	if len(ys) != n {
		return nil, fmt.Errorf("%s has %d images but %s has %d labels", path, n, labels, len(ys))
	}
	s.Labels = make([]int64, n)
	for i, y := range ys {
		k, ok := labelIndex(m.Spec.Labels, strconv.FormatInt(y, 10))
		if !ok {
			return nil, fmt.Errorf("%s: label %d of image %d is not one of the model's classes %v", labels, y, i, m.Spec.Labels)
		}
		s.Labels[i] = int64(k)
	}
	return s, nil
}

// readImageDir reads a folder of images, or of class sub-folders.
func readImageDir(m *model.Model, in *model.ImageInput, root string) (*ImageSamples, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, safeio.DropOp(err)
	}
	s := &ImageSamples{}
	for _, e := range entries {
		if !e.IsDir() && isImageFile(e.Name()) {
			s.Names = append(s.Names, filepath.Join(root, e.Name()))
		}
	}
	if len(s.Names) == 0 {
		// Class sub-folders, labelled by name.
		s.Labels = []int64{}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			files, err := os.ReadDir(filepath.Join(root, e.Name()))
			if err != nil {
				return nil, safeio.DropOp(err)
			}
			k, ok := -1, false
			for _, f := range files {
				if f.IsDir() || !isImageFile(f.Name()) {
					continue
				}
				if !ok {
					if k, ok = labelIndex(m.Spec.Labels, e.Name()); !ok {
						return nil, fmt.Errorf("%s: class folder %q is not one of the model's classes %v", root, e.Name(), m.Spec.Labels)
					}
				}
				s.Names = append(s.Names, filepath.Join(root, e.Name(), f.Name()))
				s.Labels = append(s.Labels, int64(k))
			}
		}
	}
	if len(s.Names) == 0 {
		return nil, fmt.Errorf("%s: no .png, .jpg or .jpeg files in the folder or its class sub-folders", root)
	}
	s.N = len(s.Names)
	sz := in.Channels * in.Height * in.Width
	s.X = make([]float32, s.N*sz)
	errs := make([]error, s.N)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range s.Names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			x, err := data.LoadImage(p, in.Channels, in.Height, in.Width)
			if err != nil {
				errs[i] = err
				return
			}
			copy(s.X[i*sz:(i+1)*sz], x)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// EvaluateImages scores an image model on labelled samples from
// ReadImages.
func (p *Predictor) EvaluateImages(s *ImageSamples) (*metrics.Evaluation, error) {
	if s.Labels == nil {
		return nil, errors.New("the images have no labels (give the IDX labels file, or class sub-folders)")
	}
	if s.N == 0 {
		return nil, errors.New("no images")
	}
	return p.evaluateClasses(s.X, s.Labels)
}

// Images answers decoded images (PNG or JPEG through image.Decode, or
// made in memory): each is resized bilinearly to the model's input size,
// turned grey (ITU-R 601 luma) or RGB, and normalised with the statistics
// fitted in training, exactly as training read its images.
func (p *Predictor) Images(imgs []image.Image) (*Result, error) {
	x, err := p.PrepareImages(imgs)
	if err != nil {
		return nil, err
	}
	return p.Tensor(x, len(imgs))
}

// ImageBytes answers images given as encoded PNG or JPEG bytes (a
// request's base64 field, an uploaded file). Each header is read first: an
// image declaring more pixels than data.MaxImagePixels is refused before
// it is decoded, naming its row.
func (p *Predictor) ImageBytes(blobs [][]byte) (*Result, error) {
	imgs := make([]image.Image, len(blobs))
	for i, b := range blobs {
		img, err := data.DecodeImage(b, fmt.Sprintf("image %d", i))
		if err != nil {
			return nil, &RowError{Row: i, Err: err}
		}
		imgs[i] = img
	}
	return p.Images(imgs)
}

// PrepareImages is the preprocessing half of Images: the model inputs of
// the images, len(imgs)*InputSize values.
func (p *Predictor) PrepareImages(imgs []image.Image) ([]float32, error) {
	in := model.ImageInputOf(p.m.Spec)
	if p.kind != Image {
		return nil, fmt.Errorf("predict: the model takes %s, not images", p.kind)
	}
	if len(imgs) == 0 {
		return nil, errors.New("predict: no images")
	}
	x := make([]float32, len(imgs)*p.inSize)
	for i, img := range imgs {
		if img == nil || img.Bounds().Empty() {
			return nil, &RowError{Row: i, Err: errors.New("empty image")}
		}
		if err := data.ImageToCHW(img, x[i*p.inSize:(i+1)*p.inSize], in.Channels, in.Height, in.Width); err != nil {
			return nil, &RowError{Row: i, Err: err}
		}
	}
	if err := in.Apply(x); err != nil {
		return nil, err
	}
	return x, nil
}
