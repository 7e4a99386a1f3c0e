package onnx

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/shenml/shen/onnx/onnxpb"
)

// Tolerance is the numpy allclose test the ONNX backend tests use:
// |got-want| <= Atol + Rtol*|want|. Integer and boolean outputs must match
// exactly.
type Tolerance struct{ Rtol, Atol float64 }

// BackendTolerance is onnx.backend.test's default (rtol 1e-3, atol 1e-7).
var BackendTolerance = Tolerance{Rtol: 1e-3, Atol: 1e-7}

// OutputCheck is the comparison of one output of one data set.
type OutputCheck struct {
	DataSet string
	Output  string
	Pass    bool
	MaxAbs  float64 // largest |got-want|
	MaxRel  float64 // largest |got-want|/|want| over want != 0
	Problem string  // why it failed beyond tolerance (shape, type, run error)
}

// CheckResult is what CheckFS found for one model folder.
type CheckResult struct {
	Outputs []OutputCheck
}

// Passed reports whether every output of every data set passed.
func (r *CheckResult) Passed() bool {
	for _, o := range r.Outputs {
		if !o.Pass {
			return false
		}
	}
	return len(r.Outputs) > 0
}

// CheckDir runs the ONNX test-layout folder dir: see CheckFS.
func CheckDir(dir string, tol Tolerance, lim Limits) (*CheckResult, error) {
	return CheckFS(os.DirFS(dir), ".", tol, lim)
}

// CheckFS loads dir/model.onnx from fsys, runs it on every
// dir/test_data_set_*/input_*.pb and compares with output_*.pb. An error
// means the model itself could not be read or planned; run and comparison
// failures are reported per output in the result.
func CheckFS(fsys fs.FS, dir string, tol Tolerance, lim Limits) (*CheckResult, error) {
	mp, err := readFSModel(fsys, path.Join(dir, "model.onnx"), lim)
	if err != nil {
		return nil, err
	}
	m, err := Compile(mp, lim)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var sets []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "test_data_set_") {
			sets = append(sets, e.Name())
		}
	}
	sort.Strings(sets)
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* folders", dir)
	}
	res := &CheckResult{}
	sess := m.NewSession()
	for _, set := range sets {
		checks, err := checkSet(fsys, path.Join(dir, set), m, sess, tol, lim)
		if err != nil {
			return nil, err
		}
		for i := range checks {
			checks[i].DataSet = set
		}
		res.Outputs = append(res.Outputs, checks...)
	}
	return res, nil
}

func readFSModel(fsys fs.FS, name string, lim Limits) (mp *onnxpb.ModelProto, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if mp, err = Read(f, lim); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return mp, nil
}

// numbered returns the tensors in dir named prefix_0.pb, prefix_1.pb, ...
func numbered(fsys fs.FS, dir, prefix string, lim Limits) ([]*Tensor, error) {
	var out []*Tensor
	for i := 0; ; i++ {
		name := path.Join(dir, prefix+"_"+strconv.Itoa(i)+".pb")
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			if _, statErr := fs.Stat(fsys, name); statErr != nil {
				return out, nil
			}
			return nil, err
		}
		t, err := ReadTensor(bytes.NewReader(b), lim)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, t)
	}
}

func checkSet(fsys fs.FS, dir string, m *Model, sess *Session, tol Tolerance, lim Limits) ([]OutputCheck, error) {
	ins, err := numbered(fsys, dir, "input", lim)
	if err != nil {
		return nil, err
	}
	wants, err := numbered(fsys, dir, "output", lim)
	if err != nil {
		return nil, err
	}
	checks := make([]OutputCheck, len(m.Outputs))
	for i := range checks {
		checks[i].Output = m.Outputs[i].Name
	}
	if len(wants) != len(m.Outputs) {
		return nil, fmt.Errorf("%s: %d output files for a model with %d outputs", dir, len(wants), len(m.Outputs))
	}
	gots, err := sess.Run(ins...)
	if err != nil {
		for i := range checks {
			checks[i].Problem = err.Error()
		}
		return checks, nil
	}
	for i := range checks {
		compare(&checks[i], gots[i], wants[i], tol)
	}
	return checks, nil
}

// compare fills c from got against want.
func compare(c *OutputCheck, got, want *Tensor, tol Tolerance) {
	if !sameShape(got.Shape, want.Shape) {
		c.Problem = fmt.Sprintf("shape %v, want %v", got.Shape, want.Shape)
		return
	}
	if got.DType.isFloat() != want.DType.isFloat() {
		c.Problem = fmt.Sprintf("type %s, want %s", got.DType, want.DType)
		return
	}
	c.Pass = true
	for i := 0; i < want.Len(); i++ {
		g, w := got.scalarF(i), want.scalarF(i)
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				c.Pass = false
				c.MaxAbs = math.Inf(1)
			}
			continue
		}
		if g == w { // also equal infinities
			continue
		}
		d := math.Abs(g - w)
		c.MaxAbs = max(c.MaxAbs, d)
		if w != 0 {
			c.MaxRel = max(c.MaxRel, d/math.Abs(w))
		}
		if !want.DType.isFloat() || d > tol.Atol+tol.Rtol*math.Abs(w) {
			c.Pass = false
		}
	}
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// WriteReport prints one line per output check and a summary line.
func (r *CheckResult) WriteReport(w io.Writer) {
	passed := 0
	for _, o := range r.Outputs {
		if o.Pass {
			passed++
		}
		status := "pass"
		if !o.Pass {
			status = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s  output %q  max abs %.3g  max rel %.3g", status, o.DataSet, o.Output, o.MaxAbs, o.MaxRel)
		if o.Problem != "" {
			fmt.Fprintf(w, "  (%s)", o.Problem)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d of %d outputs pass\n", passed, len(r.Outputs))
}
