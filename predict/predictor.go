package predict

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/tensor"
)

// Kind says what raw input a model takes.
type Kind int

const (
	// Tensor models take prepared feature vectors of InputShape.
	Tensor Kind = iota
	// Table models take records of named fields through the fitted
	// preprocessing.
	Table
	// Window models take time-ordered rows cut into windows.
	Window
	// Image models take images, converted and normalised as in training.
	Image
	// Text models (language models) continue a prompt.
	Text
)

// String names the input the kind takes, as errors say it.
func (k Kind) String() string {
	switch k {
	case Table:
		return "table rows"
	case Window:
		return "windows of table rows"
	case Image:
		return "images"
	case Text:
		return "text prompts"
	}
	return "feature tensors"
}

// Regression is the task name of regressors in model.Spec.Task.
const regression = "regression"

// chunk is the number of samples Forward runs at once when a caller gives
// more: it bounds the memory of one forward pass.
const chunk = 256

// Predictor runs one model artifact. It is safe for concurrent use by any
// number of goroutines.
type Predictor struct {
	m       *model.Model
	kind    Kind
	in      []int // one sample's shape
	inSize  int
	outputs int
	classes []string
	lm      *model.LanguageModel
	inputs  []inputCheck // a table model's inputs, for the per-row notes
	prec    tensor.Precision
}

// Options configures a Predictor. The zero value runs the model as it
// was saved, in float32.
type Options struct {
	// Precision is how the network's products multiply: tensor.BF16 runs
	// inference in mixed precision as torch.autocast("cpu",
	// dtype=torch.bfloat16) would (see nn.SetPrecision), whatever
	// precision the model was trained in. Where the CPU has no bf16 units
	// (kernel.HasBF16) it is emulated and slower than float32.
	Precision tensor.Precision
}

// Load reads the artifact in dir (see model.Load) and returns its
// Predictor.
func Load(dir string) (*Predictor, error) { return LoadWith(dir, Options{}) }

// LoadWith is Load with options.
func LoadWith(dir string, o Options) (*Predictor, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, err
	}
	return NewWith(m, o)
}

// New returns the Predictor of a loaded model. It takes m for inference:
// the network is put in evaluation mode and its parameters stop requiring
// gradients, so forward passes record no graph without any process-wide
// switch. Load another copy of the artifact to train on.
func New(m *model.Model) (*Predictor, error) { return NewWith(m, Options{}) }

// NewWith is New with options; it sets the network's precision
// (nn.SetPrecision) as it takes m.
func NewWith(m *model.Model, o Options) (*Predictor, error) {
	if m == nil || m.Net == nil {
		return nil, errors.New("predict: no model")
	}
	s := m.Spec
	p := &Predictor{m: m, in: slices.Clone(s.Architecture.Input), outputs: s.Architecture.Outputs, prec: o.Precision}
	p.inSize = 1
	for _, d := range p.in {
		p.inSize *= d
	}
	if p.inSize <= 0 || p.outputs <= 0 {
		return nil, fmt.Errorf("predict: %s: input %v and %d outputs cannot run", s.Name, p.in, p.outputs)
	}
	lm, isLM := m.Net.(*model.LanguageModel)
	switch {
	case isLM && s.Vocab != nil:
		p.kind, p.lm = Text, lm
	case model.ImageInputOf(s) != nil:
		p.kind = Image
	case s.Window != nil:
		p.kind = Window
	case s.Preprocessing != nil:
		p.kind = Table
		p.inputs = inputChecks(s.Preprocessing, m.Profile)
	}
	if s.Task != regression && p.kind != Text {
		if len(s.Labels) != p.outputs {
			return nil, fmt.Errorf("predict: %s: %s: %d labels for %d outputs", s.Name, model.SpecFile, len(s.Labels), p.outputs)
		}
		p.classes = s.Labels
	}
	if p.kind == Image {
		if im := model.ImageInputOf(s); !slices.Equal(im.Shape(), p.in) {
			return nil, fmt.Errorf("predict: %s: %s: image input %v does not match the architecture's input %v", s.Name, model.SpecFile, im.Shape(), p.in)
		}
	}
	nn.Train(m.Net, false)
	for _, t := range nn.Parameters(m.Net) {
		t.SetRequiresGrad(false)
	}
	nn.SetPrecision(m.Net, o.Precision)
	return p, nil
}

// Precision is the precision the network runs in (Options.Precision).
func (p *Predictor) Precision() tensor.Precision { return p.prec }

// Model returns the artifact (spec, network, training profile).
func (p *Predictor) Model() *model.Model { return p.m }

// Kind says what raw input the model takes.
func (p *Predictor) Kind() Kind { return p.kind }

// InputShape returns the shape of one prepared sample.
func (p *Predictor) InputShape() []int { return slices.Clone(p.in) }

// InputSize returns the number of values in one prepared sample.
func (p *Predictor) InputSize() int { return p.inSize }

// Outputs returns the number of raw network outputs per sample (the
// number of classes for a classifier).
func (p *Predictor) Outputs() int { return p.outputs }

// Classes returns the class names in output order, nil for a regressor.
func (p *Predictor) Classes() []string { return p.classes }

// Threshold returns a binary classifier's decision threshold on the
// probability of Classes()[1], or nil when the most probable class wins.
func (p *Predictor) Threshold() *float64 { return p.m.Spec.Threshold }

// Forward runs n prepared samples x (n*InputSize values, sample-major) and
// writes the raw network outputs (logits for a classifier) into out
// (n*Outputs values). It refuses NaN and infinite inputs, and inputs that
// overflow the network to a NaN or infinite output (naming the sample),
// rather than answering with NaN. In steady state it allocates
// only tensor headers: activations come from and return to the buffer
// pool. Safe for concurrent use.
func (p *Predictor) Forward(x []float32, n int, out []float32) error {
	if p.kind == Text {
		return errors.New("predict: a language model continues prompts (Generate); it has no fixed-size forward")
	}
	if n < 0 || len(x) != n*p.inSize {
		return fmt.Errorf("predict: %d input values for %d samples of %v", len(x), n, p.in)
	}
	if len(out) != n*p.outputs {
		return fmt.Errorf("predict: output buffer holds %d values, %d samples need %d", len(out), n, n*p.outputs)
	}
	if i := firstNonFinite(x); i >= 0 {
		return &RowError{Row: i / p.inSize, Err: fmt.Errorf("input value %d is %v", i%p.inSize, x[i])}
	}
	shape := make([]int, 0, 4)
	for s := 0; s < n; s += chunk {
		e := min(n, s+chunk)
		shape = append(append(shape[:0], e-s), p.in...)
		xt := tensor.FromSlice(x[s*p.inSize:e*p.inSize], shape...)
		y := p.m.Net.Forward(xt)
		copy(out[s*p.outputs:e*p.outputs], y.Data())
		y.Release()
	}
	if i := firstNonFinite(out); i >= 0 {
		return &RowError{Row: i / p.outputs, Err: fmt.Errorf("the model's output %d is %v: an input far outside the training range overflowed the network", i%p.outputs, out[i])}
	}
	return nil
}

func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// Tensor runs n prepared samples x (n*InputSize values) and answers them.
func (p *Predictor) Tensor(x []float32, n int) (*Result, error) {
	out := make([]float32, n*p.outputs)
	if err := p.Forward(x, n, out); err != nil {
		return nil, err
	}
	return p.Answer(out, n), nil
}

// Result holds the answers for N rows.
type Result struct {
	N int
	// Classes names the classes (classification); nil for regression.
	Classes []string
	// Class is the index into Classes of each row's predicted class, and
	// Probs the class probabilities, row-major [N, len(Classes)].
	Class []int
	Probs []float32
	// Values are the regression outputs in the target's units, row-major
	// [N, Outputs].
	Values []float32
	// Outputs is the number of outputs per row.
	Outputs int
	// Threshold is a binary classifier's decision threshold on the
	// probability of Classes[1] (nil: the most probable class).
	Threshold *float64
	// Notes holds what a client should know about each row (nil when no
	// row has any; a row without notes has a nil entry).
	Notes [][]Note
	// Inputs names each row when the rows are not lines of a table: the
	// image file ("<idx file>[i]" for IDX images); nil otherwise.
	Inputs []string
	// Rows gives, for a window model, the input row (0-based) each answer
	// is for: the window's last row, or for a forecaster the row after it
	// (len(rows) for a forecast past the end); nil otherwise.
	Rows []int
}

// Label returns the predicted class name of row i.
func (r *Result) Label(i int) string { return r.Classes[r.Class[i]] }

// Answer turns n rows of raw network outputs (as Forward writes them)
// into answers: class probabilities (softmax) and the predicted class
// (the artifact's decision threshold for a binary classifier, else the
// most probable class), or regression values.
func (p *Predictor) Answer(out []float32, n int) *Result {
	r := &Result{}
	p.AnswerInto(r, out, n)
	return r
}

// AnswerInto is Answer writing into r, reusing its slices' memory: a
// server answering batch after batch allocates nothing here.
func (p *Predictor) AnswerInto(r *Result, out []float32, n int) {
	*r = Result{N: n, Outputs: p.outputs, Threshold: p.m.Spec.Threshold,
		Class: r.Class[:0], Probs: r.Probs[:0], Values: r.Values[:0]}
	if p.classes == nil {
		r.Values = append(r.Values, out[:n*p.outputs]...)
		return
	}
	r.Classes = p.classes
	k := p.outputs
	for s := 0; s < n; s += chunk {
		e := min(n, s+chunk)
		logits := tensor.FromSlice(out[s*k:e*k], e-s, k)
		probs := tensor.Softmax(logits, 1)
		pd := probs.Data()
		r.Probs = append(r.Probs, pd...)
		if t := r.Threshold; t != nil && k == 2 {
			for i := 1; i < len(pd); i += 2 {
				r.Class = append(r.Class, b2i(float64(pd[i]) >= *t))
			}
		} else {
			for i := range e - s {
				r.Class = append(r.Class, argmax(out[(s+i)*k:(s+i+1)*k]))
			}
		}
		probs.Release()
	}
}

// argmax returns the index of the largest value, the first on ties, as
// tensor.Argmax does.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
