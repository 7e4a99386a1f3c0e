package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/shenml/shen/predict"
)

// outputKind is one tensor a version answers with.
type outputKind uint8

const (
	outRaw   outputKind = iota // the network's raw outputs (logits for classifiers), FP32 [N Outputs]
	outProbs                   // class probabilities, FP32 [N classes]
	outClass                   // predicted class index, INT64 [N]
	outLabel                   // predicted class name, BYTES [N]
	outValue                   // regression values in the target's units, FP32 [N Outputs]
)

// inputName is the V2 input tensor's name: the signature's when it has one
// input of the network's shape, else "input". (A table model's signature
// lists its raw columns, which V1 records carry; V2 carries the prepared
// features the network takes.)
func inputName(p *predict.Predictor) string {
	sig := p.Model().Spec.Signature.Inputs
	if len(sig) == 1 && slices.Equal(sig[0].Shape[min(1, len(sig[0].Shape)):], p.InputShape()) {
		return sig[0].Name
	}
	return "input"
}

// outputSpec describes an answer tensor.
type outputSpec struct {
	kind  outputKind
	name  string
	dt    datatype
	width int // values per row: shape [N width]; 0: shape [N]
}

// shape is the tensor's shape for n rows.
func (o outputSpec) shape(n int) []int64 {
	if o.width == 0 {
		return []int64{int64(n)}
	}
	return []int64{int64(n), int64(o.width)}
}

// buildOutputs lists the tensors a model answers with: its raw outputs
// under the signature's name, then the answers predict makes of them —
// probabilities, class and label for a classifier, value for a regressor.
func buildOutputs(p *predict.Predictor) []outputSpec {
	if p.Kind() == predict.Text {
		return nil
	}
	spec := p.Model().Spec
	raw := "output"
	if len(spec.Signature.Outputs) > 0 {
		raw = spec.Signature.Outputs[0].Name
	}
	outs := []outputSpec{{kind: outRaw, name: raw, dt: dtFP32, width: p.Outputs()}}
	if c := p.Classes(); c != nil {
		return append(outs,
			outputSpec{kind: outProbs, name: "probabilities", dt: dtFP32, width: len(c)},
			outputSpec{kind: outClass, name: "class", dt: dtInt64},
			outputSpec{kind: outLabel, name: "label", dt: dtBytes})
	}
	return append(outs, outputSpec{kind: outValue, name: "value", dt: dtFP32, width: p.Outputs()})
}

// selected is an output to send and whether it goes as binary data.
type selected struct {
	outputSpec
	binary bool
}

// selectOutputs resolves the requested outputs (all when none are named).
func selectOutputs(v *version, req []v2RequestedOutput, binaryAll bool, dst []selected) ([]selected, error) {
	if len(req) == 0 {
		for _, s := range v.outputs {
			dst = append(dst, selected{s, binaryAll})
		}
		return dst, nil
	}
	for _, r := range req {
		i := slices.IndexFunc(v.outputs, func(s outputSpec) bool { return s.name == r.Name })
		if i < 0 {
			names := make([]string, len(v.outputs))
			for k, s := range v.outputs {
				names[k] = s.name
			}
			return nil, fmt.Errorf("output %q is not an output of model %q; it has %v", r.Name, v.model, names)
		}
		bin, err := paramBool(r.Parameters, "binary_data")
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", r.Name, err)
		}
		dst = append(dst, selected{v.outputs[i], bin || binaryAll})
	}
	return dst, nil
}

// needsAnswer reports whether any selected output is made by Answer.
func needsAnswer(sel []selected) bool {
	for _, s := range sel {
		if s.kind != outRaw {
			return true
		}
	}
	return false
}

// answer turns a finished job's raw outputs into answers when an output or
// the observer needs them: into the job's own Result (no allocation) for
// the response alone, into a fresh one the observer may keep.
func (s *Server) answer(v *version, j *job, sel []selected) *predict.Result {
	switch {
	case s.observer != nil:
		return v.pred.Answer(j.out, j.n)
	case needsAnswer(sel):
		v.pred.AnswerInto(&j.res, j.out, j.n)
		return &j.res
	}
	return nil
}

// floats are an FP32 output's values.
func (o outputSpec) floats(j *job, res *predict.Result) []float32 {
	switch o.kind {
	case outProbs:
		return res.Probs
	case outValue:
		return res.Values
	}
	return j.out[:j.n*o.width]
}

// appendBinary appends an output's little-endian binary encoding (BYTES:
// a 4-byte length before each element).
func (o outputSpec) appendBinary(b []byte, j *job, res *predict.Result) []byte {
	le := binary.LittleEndian
	switch o.kind {
	case outClass:
		for _, c := range res.Class {
			b = le.AppendUint64(b, uint64(c))
		}
	case outLabel:
		for i := range res.Class {
			l := res.Label(i)
			b = le.AppendUint32(b, uint32(len(l)))
			b = append(b, l...)
		}
	default:
		for _, x := range o.floats(j, res) {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}

// appendJSONData appends an output's values as a flat JSON array.
func (o outputSpec) appendJSONData(b []byte, j *job, res *predict.Result) []byte {
	b = append(b, '[')
	switch o.kind {
	case outClass:
		for i, c := range res.Class {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(c), 10)
		}
	case outLabel:
		for i := range res.Class {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, res.Label(i))
		}
	default:
		for i, x := range o.floats(j, res) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONFloat(b, x)
		}
	}
	return append(b, ']')
}

// appendV2Response writes the JSON response header for a job's outputs and
// appends the binary outputs' bytes to bin.
func appendV2Response(b, bin []byte, v *version, id string, j *job, res *predict.Result, sel []selected) ([]byte, []byte) {
	b = append(b, `{"model_name":`...)
	b = appendJSONString(b, v.model)
	b = append(b, `,"model_version":"`...)
	b = append(b, v.label...)
	b = append(b, '"')
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, id)
	}
	b = append(b, `,"outputs":[`...)
	for i, s := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, s.name)
		b = append(b, `,"datatype":"`...)
		b = append(b, s.dt.String()...)
		b = append(b, `","shape":[`...)
		for k, d := range s.shape(j.n) {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, ']')
		if s.binary {
			before := len(bin)
			bin = s.appendBinary(bin, j, res)
			b = append(b, `,"parameters":{"binary_data_size":`...)
			b = strconv.AppendInt(b, int64(len(bin)-before), 10)
			b = append(b, "}}"...)
			continue
		}
		b = append(b, `,"data":`...)
		b = s.appendJSONData(b, j, res)
		b = append(b, '}')
	}
	return append(b, "]}"...), bin
}
