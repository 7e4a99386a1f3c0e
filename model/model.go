package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/model/safetensors"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/quant"
	"github.com/shenml/shen/tensor"
)

// FormatVersion is the model.json format this package writes; Load
// accepts it and older versions it knows.
const FormatVersion = 1

// File names inside an artifact directory.
const (
	SpecFile    = "model.json"
	WeightsFile = "weights.safetensors"
	ProfileFile = "profile.json"
)

// Tensor describes one input or output of the model in the Open Inference
// Protocol's terms, so serving can publish it as model metadata unchanged.
type Tensor struct {
	Name string `json:"name"`
	// Datatype is the V2 protocol's type name: FP32, INT64 or BYTES.
	Datatype string `json:"datatype"`
	// Shape has -1 for the batch dimension and any other variable one.
	Shape []int `json:"shape"`
}

// Signature is what the model takes and gives.
type Signature struct {
	Inputs  []Tensor `json:"inputs"`
	Outputs []Tensor `json:"outputs"`
}

// Training records how the model was made, for reproducibility and audit.
type Training struct {
	Seed       uint64             `json:"seed"`
	ConfigHash string             `json:"config_hash,omitempty"`
	DataHash   string             `json:"data_hash,omitempty"`
	Epochs     int                `json:"epochs,omitempty"`
	Samples    int                `json:"samples,omitempty"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Started    time.Time          `json:"started,omitzero"`
	Finished   time.Time          `json:"finished,omitzero"`

	// Precision is how the products were computed in training: "bf16"
	// (mixed precision, float32 weights) or "fp32"; empty in artifacts
	// from before it was recorded.
	Precision string `json:"precision,omitempty"`
}

// Spec is the content of model.json.
type Spec struct {
	Format        string       `json:"format"`
	FormatVersion int          `json:"format_version"`
	Name          string       `json:"name"`
	Task          string       `json:"task"` // "classification" or "regression"
	Architecture  Architecture `json:"architecture"`
	Signature     Signature    `json:"signature"`
	// Labels names the classes in output order (classification).
	Labels []string `json:"labels,omitempty"`
	// Target names the label column of the table the model was trained
	// on, so that evaluation finds it and prediction leaves it out.
	Target string `json:"target,omitempty"`
	// Preprocessing is the fitted pipeline that turns raw input rows into
	// the model's input features; absent when inputs are already features.
	Preprocessing *data.Pipeline `json:"preprocessing,omitempty"`
	// Window, for sequence models trained on time-ordered rows, says how
	// the rows are cut into [length, features] samples.
	Window *Window `json:"window,omitempty"`
	// Vocab is the tokenizer of a language model (task language_model).
	Vocab *data.Vocab `json:"vocab,omitempty"`
	// Image, for models trained on images (IDX files or image folders),
	// says how a raw image becomes the model's input.
	Image *ImageInput `json:"image,omitempty"`
	// Threshold, for a binary classifier, is the decision threshold on the
	// probability of Labels[1]: a sample is predicted as Labels[1] when
	// that probability is at least Threshold (chosen on the validation
	// split by train.threshold: auto, or given). Nil: the most probable class.
	Threshold *float64 `json:"threshold,omitempty"`
	Training  Training `json:"training"`
	// Quantization, when set (by shen quantize), makes Load run the
	// network's Linear and Conv2D layers in int8 with these calibrated
	// input scales (package quant). weights.safetensors stays float32:
	// the int8 weight codes follow from it.
	Quantization *quant.Spec `json:"quantization,omitempty"`
}

// ImageInput is the preprocessing of an image model: every image is
// decoded to Channels planes of Height x Width pixels in [0, 1] (IDX bytes
// divided by 255; PNG and JPEG files resized bilinearly, converted to grey
// with ITU-R 601 luma when Channels is 1), then, when Normalize is set,
// standardised per channel with the mean and std fitted on the training
// split. The result is the network's input, [Channels, Height, Width].
type ImageInput struct {
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`
	// Normalize holds the fitted per-channel statistics (nil: none).
	Normalize *data.ImageNormalize `json:"normalize,omitempty"`
}

// Shape returns [Channels, Height, Width].
func (p *ImageInput) Shape() []int { return []int{p.Channels, p.Height, p.Width} }

// Apply turns images read into [0, 1] (n images, CHW, sample-major) into
// model inputs in place: today the fitted normalisation, if any. Training
// applies the same function to each sample, so inputs are bit-identical.
func (p *ImageInput) Apply(x []float32) error {
	if p.Normalize == nil {
		return nil
	}
	return p.Normalize.Apply(x, p.Height, p.Width)
}

// check reports what is wrong with p, naming the field.
func (p *ImageInput) check() error {
	if p.Channels != 1 && p.Channels != 3 {
		return fmt.Errorf("image.channels must be 1 or 3, got %d", p.Channels)
	}
	if p.Height <= 0 || p.Width <= 0 || p.Height > MaxImageSide || p.Width > MaxImageSide {
		return fmt.Errorf("image.height and image.width must be in [1, %d], got %dx%d", MaxImageSide, p.Height, p.Width)
	}
	if p.values() > MaxImageValues {
		return fmt.Errorf("image: %dx%dx%d is more than the %d values this build reads per image", p.Channels, p.Height, p.Width, MaxImageValues)
	}
	if n := p.Normalize; n != nil {
		if len(n.Mean) != p.Channels || len(n.Std) != p.Channels {
			return fmt.Errorf("image.normalize has %d means and %d stds for %d channels", len(n.Mean), len(n.Std), p.Channels)
		}
		for c, s := range n.Std {
			if !(s > 0) || math.IsInf(float64(s), 0) || math.IsNaN(float64(n.Mean[c])) || math.IsInf(float64(n.Mean[c]), 0) {
				return fmt.Errorf("image.normalize channel %d: mean %v and std %v must be finite, std positive", c, n.Mean[c], s)
			}
		}
	}
	return nil
}

// ImageInputOf returns how the artifact of spec reads images: spec.Image,
// or for artifacts written before it existed, an image input without
// normalisation inferred from a [channels, height, width] architecture
// input with no table preprocessing. It returns nil for other models.
func ImageInputOf(spec Spec) *ImageInput {
	if spec.Image != nil {
		return spec.Image
	}
	in := spec.Architecture.Input
	if spec.Preprocessing == nil && spec.Window == nil && spec.Vocab == nil && len(in) == 3 && (in[0] == 1 || in[0] == 3) {
		return &ImageInput{Channels: in[0], Height: in[1], Width: in[2]}
	}
	return nil
}

// Window describes how a sequence model's samples come from time-ordered
// rows: each sample holds Length consecutive rows of the preprocessed
// features (rows of one Group value only, when Group is set); its label is
// Column at the last row (Target "last") or at the row after the window
// (Target "next", forecasting).
//
// Log and Difference transform the target column, a forecaster's series
// (Target "next" only), before windowing: its values y become log(y)
// when Log is set, then, when Difference is set, the change from the
// previous row of the same series (the first row of each series has none
// and starts no window). The transform applies wherever the column is
// used, as the label and, when it is an input, inside the windows; the
// network predicts the transformed label and Invert maps it back to the
// target's units.
type Window struct {
	Length     int    `json:"length"`
	Target     string `json:"target"`
	Column     string `json:"column"`
	Group      string `json:"group,omitempty"`
	Log        bool   `json:"log,omitempty"`
	Difference bool   `json:"difference,omitempty"`
}

// Transforms reports whether the target column is transformed (Log or
// Difference).
func (w *Window) Transforms() bool { return w.Log || w.Difference }

// Level is the target value y on the model's scale before differencing:
// log(y) with Log, else y.
func (w *Window) Level(y float64) float64 {
	if w.Log {
		return math.Log(y)
	}
	return y
}

// Series returns the transformed values of one series (the target
// column's rows of one group, in time order): Level of each value, then
// with Difference the change from the previous row (element 0 is then
// NaN: it has no previous row). It fails on a value Log cannot take.
func (w *Window) Series(y []float64) ([]float64, error) {
	out := make([]float64, len(y))
	for i, v := range y {
		if w.Log && !(v > 0) {
			return nil, fmt.Errorf("window.log: %s value %v at row %d of its series is not positive", w.Column, v, i+1)
		}
		out[i] = w.Level(v)
	}
	if w.Difference {
		for i := len(out) - 1; i > 0; i-- {
			out[i] -= out[i-1]
		}
		if len(out) > 0 {
			out[0] = math.NaN()
		}
	}
	return out, nil
}

// Invert maps a network output (a transformed label) back to the target's
// units, given last, the target's raw value at the window's last row
// (used with Difference).
func (w *Window) Invert(out, last float64) float64 {
	if w.Difference {
		out += w.Level(last)
	}
	if w.Log {
		return math.Exp(out)
	}
	return out
}

// Model is a loaded (or about to be saved) artifact: its spec, the network
// with its weights, and the training-data profile.
type Model struct {
	Spec    Spec
	Net     nn.Layer
	Profile *data.Profile
}

// New builds a fresh network for spec's architecture.
func New(spec Spec) (*Model, error) {
	net, err := Build(spec.Architecture)
	if err != nil {
		return nil, err
	}
	return &Model{Spec: spec, Net: net}, nil
}

// ExternalBuilder builds the network of an artifact whose graph is a file
// in the artifact directory rather than an architecture Build knows: kind
// "onnx" runs the artifact's model.onnx (package onnx registers it). Such
// a network has no parameters of its own, so weights.safetensors is empty.
type ExternalBuilder func(a Architecture, dir string) (nn.Layer, error)

var externalBuilders = map[string]ExternalBuilder{}

// RegisterBuilder makes Load build architectures of kind with b. It is
// meant for package init functions and panics on a kind registered twice.
func RegisterBuilder(kind string, b ExternalBuilder) {
	if _, dup := externalBuilders[kind]; dup {
		panic("model: RegisterBuilder called twice for kind " + kind)
	}
	externalBuilders[kind] = b
}

// bareLoaders load folders that hold a model file other frameworks wrote
// and no model.json (a Triton-style version folder with a bare
// model.onnx), by that file's name; see RegisterBareLoader.
var bareLoaders = map[string]func(dir string) (*Model, error){}

// RegisterBareLoader makes Load accept a folder without model.json that
// holds file, loading it with load (package onnx registers model.onnx).
// It is meant for package init functions.
func RegisterBareLoader(file string, load func(dir string) (*Model, error)) {
	if _, dup := bareLoaders[file]; dup {
		panic("model: RegisterBareLoader called twice for " + file)
	}
	bareLoaders[file] = load
}

// loadBare loads dir through a registered bare loader when dir has no
// model.json; ok is false when none applies.
func loadBare(dir string) (m *Model, ok bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, SpecFile)); !errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	for file, load := range bareLoaders {
		if _, err := os.Stat(filepath.Join(dir, file)); err == nil {
			m, err := load(dir)
			return m, true, err
		}
	}
	return nil, false, nil
}

// newIn is New for an artifact in dir, where external kinds find their file.
func newIn(spec Spec, dir string) (*Model, error) {
	b := externalBuilders[spec.Architecture.Kind]
	if b == nil {
		return New(spec)
	}
	net, err := b(spec.Architecture, dir)
	if err != nil {
		return nil, err
	}
	return &Model{Spec: spec, Net: net}, nil
}

// Save writes the artifact into dir (created if needed). Each file is
// written to a temporary name and renamed, so a crash leaves either the
// old file or the new one, never a torn one.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	spec := m.Spec
	spec.Format, spec.FormatVersion = "shen-model", FormatVersion
	if len(spec.Signature.Inputs) == 0 {
		spec.Signature = DefaultSignature(spec.Architecture)
	}
	var f safetensors.File
	for _, e := range nn.StateDict(m.Net) {
		if err := addTensor(&f, e.Name, e.Value); err != nil {
			return err
		}
	}
	f.Metadata = map[string]string{"format": "pt", "producer": "shen"}
	if err := safetensors.WriteFile(filepath.Join(dir, WeightsFile), &f); err != nil {
		return err
	}
	if m.Profile != nil {
		if err := m.Profile.Save(filepath.Join(dir, ProfileFile)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return fmt.Errorf("model: encoding %s: %w", SpecFile, err)
	}
	return safeio.WriteFileAtomic(filepath.Join(dir, SpecFile), append(b, '\n'), 0o644)
}

// addTensor stores a state-dict entry. Counters that PyTorch keeps as
// int64 (BatchNorm's num_batches_tracked) are stored as I64 so the file
// loads into torch unchanged.
func addTensor(f *safetensors.File, name string, t *tensor.Tensor) error {
	if strings.HasSuffix(name, "num_batches_tracked") {
		d := t.Data()
		ints := make([]int64, len(d))
		for i, v := range d {
			ints[i] = int64(v)
		}
		return f.AddInt64(name, t.Shape(), ints)
	}
	return f.AddFloat32(name, t.Shape(), slices.Clone(t.Data()))
}

// DefaultSignature is the signature of a plain feature-in, scores-out model.
func DefaultSignature(a Architecture) Signature {
	return Signature{
		Inputs:  []Tensor{{Name: "input", Datatype: "FP32", Shape: append([]int{-1}, a.Input...)}},
		Outputs: []Tensor{{Name: "output", Datatype: "FP32", Shape: []int{-1, a.Outputs}}},
	}
}

// Load reads the artifact in dir and checks it as a whole, so that what
// loads can run. A folder with no model.json but a model file a bare
// loader was registered for (RegisterBareLoader: package onnx's
// model.onnx) is loaded by that loader instead. For an artifact, what
// loads can run: the format version, every model.json field against every
// other (Spec.Check), the network built from the architecture and run
// once on a zero sample to check its output shape against the task, and
// every parameter and buffer in weights.safetensors with the right shape.
// Files are read only when regular (a FIFO or a link to /dev/zero is
// refused) and within caps: model.json and profile.json safeio.MaxJSON,
// the weights what the architecture's tensors can take. Errors name the
// file and the field or tensor at fault; a truncated, corrupted or lying
// file is an error, never a panic.
func Load(dir string) (*Model, error) {
	if m, ok, err := loadBare(dir); ok {
		return m, err
	}
	specPath := filepath.Join(dir, SpecFile)
	raw, err := safeio.ReadFile(specPath, safeio.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("model: %s: %w", specPath, err)
	}
	if spec.Format != "shen-model" {
		return nil, fmt.Errorf("model: %s: format is %q, want \"shen-model\"", specPath, spec.Format)
	}
	if spec.FormatVersion < 1 || spec.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("model: %s: format_version %d is not supported by this Shen (reads 1 to %d)", specPath, spec.FormatVersion, FormatVersion)
	}
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("model: %s: %w", specPath, err)
	}
	// Read the weights before building the network, so that a spec
	// declaring far more parameters than the file holds costs nothing.
	wpath := filepath.Join(dir, WeightsFile)
	f, err := readWeights(wpath, spec.Architecture)
	if err != nil {
		return nil, err
	}
	m, err := newIn(spec, dir)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", specPath, err)
	}
	if err := checkOutputShape(m); err != nil {
		return nil, fmt.Errorf("model: %s: %w", specPath, err)
	}
	if err := loadWeights(m.Net, f, wpath); err != nil {
		return nil, err
	}
	ppath := filepath.Join(dir, ProfileFile)
	if _, err := os.Lstat(ppath); err == nil {
		if m.Profile, err = data.LoadProfile(ppath); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("model: %w", err)
	}
	nn.Train(m.Net, false)
	if q := spec.Quantization; q != nil {
		if m.Net, err = quant.Apply(m.Net, q); err != nil {
			return nil, fmt.Errorf("model: %s: %w", specPath, err)
		}
	}
	return m, nil
}

// checkOutputShape runs the fresh network on one zero sample and checks
// the output is what the task needs: [outputs], or [steps, vocabulary]
// for a language model. Build has bounded every buffer, so this costs at
// most one sample's forward pass.
func checkOutputShape(m *Model) error {
	a := m.Spec.Architecture
	out, err := OutputShape(m.Net, a.Input)
	if err != nil {
		return fmt.Errorf("architecture: %w", err)
	}
	want := []int{a.Outputs}
	if m.Spec.Task == TaskLanguageModel {
		want = []int{a.Input[0], a.Outputs}
	}
	if !slices.Equal(out, want) {
		return fmt.Errorf("architecture: the network gives %v per sample, task %s with outputs %d needs %v", out, m.Spec.Task, a.Outputs, want)
	}
	return nil
}

// readWeights reads the safetensors file of an artifact of architecture
// a: no larger than a's parameters can fill (8 bytes per value, the widest
// dtype, plus the largest header), checked against the file's size before
// reading, and holding values enough for a's parameters (whose count
// bound over-estimates by at most about 6 times), so that neither a huge
// file nor a spec declaring a huge network over a small file costs memory.
// Errors name the file.
func readWeights(path string, a Architecture) (*safetensors.File, error) {
	want := bound(a).params
	limit := 8 + safetensors.MaxHeaderSize + 8*int64(min(want, MaxParameters))
	b, err := safeio.ReadFile(path, limit)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	f, err := safetensors.Read(b)
	if err != nil {
		var e *safetensors.Error
		if errors.As(err, &e) {
			e.File = path
			return nil, err // names the file and tensor
		}
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	var have float64
	for _, t := range f.Tensors {
		n := 1.0
		for _, d := range t.Shape {
			n *= float64(d)
		}
		have += n
	}
	if want > 8*have+1<<20 && want <= MaxParameters {
		return nil, fmt.Errorf("model: %s: holds %.0f values, the architecture in %s needs about %.3g (weights of another model?)", path, have, SpecFile, want)
	}
	return f, nil
}

// loadWeights copies every state-dict entry of net from f, checking
// presence, shape and that f has nothing net does not expect.
func loadWeights(net nn.Module, f *safetensors.File, path string) error {
	values := map[string]*tensor.Tensor{}
	for _, e := range nn.StateDict(net) {
		info, ok := f.Tensors[e.Name]
		if !ok {
			return fmt.Errorf("model: %s: tensor %q (shape %v) is missing", path, e.Name, e.Value.Shape())
		}
		if !slices.Equal(info.Shape, e.Value.Shape()) {
			return fmt.Errorf("model: %s: tensor %q has shape %v, the architecture needs %v", path, e.Name, info.Shape, e.Value.Shape())
		}
		var vals []float32
		if strings.HasSuffix(e.Name, "num_batches_tracked") {
			ints, _, err := f.Int64(e.Name)
			if err != nil {
				return fmt.Errorf("model: %s: %w", path, err)
			}
			vals = make([]float32, len(ints))
			for i, v := range ints {
				vals[i] = float32(v)
			}
		} else {
			var err error
			if vals, _, err = f.Float32(e.Name); err != nil {
				return fmt.Errorf("model: %s: %w", path, err)
			}
		}
		if len(info.Shape) == 0 {
			values[e.Name] = tensor.FromSlice(vals).Reshape()
		} else {
			values[e.Name] = tensor.FromSlice(vals, info.Shape...)
		}
	}
	for name := range f.Tensors {
		if _, ok := values[name]; !ok {
			return fmt.Errorf("model: %s: tensor %q is not part of the architecture", path, name)
		}
	}
	if err := nn.LoadStateDict(net, values); err != nil {
		return fmt.Errorf("model: %s: %w", path, err)
	}
	return nil
}

// Predict runs a batch of input features [N, input...] through the network
// without recording gradients (nn.NoGrad over the network's parameters,
// so training elsewhere in the process is unaffected), and returns the raw
// outputs (logits for classification). The network must be in evaluation
// mode, as Load leaves it.
func (m *Model) Predict(x *tensor.Tensor) *tensor.Tensor {
	var out *tensor.Tensor
	nn.NoGrad(m.Net, func() { out = m.Net.Forward(x) })
	return out
}
