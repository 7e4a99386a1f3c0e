package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/serve/inference"
)

// rawTensor is a V2 input that is not the network's prepared input: one
// raw column of a table model (named as in the model's signature, numbers
// or BYTES text), or encoded images (BYTES, PNG or JPEG) for an image
// model. These go through the artifact's fitted preprocessing, as V1
// records and images do.
type rawTensor struct {
	name string
	dt   datatype
	nums []float64 // numeric and BOOL elements
	strs [][]byte  // BYTES elements
}

func (t *rawTensor) len() int {
	if t.dt == dtBytes {
		return len(t.strs)
	}
	return len(t.nums)
}

// isPrepared reports whether a request's inputs are the network's one
// prepared input (else they are raw columns or images).
func isPrepared(v *version, names []string) bool {
	return len(names) == 1 && names[0] == v.input || v.pred.Kind() == predict.Tensor || v.pred.Kind() == predict.Text
}

// elements is a shape's element count, bounded by what the data can hold.
func elements(name string, shape []int64, limit int) (int, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("input %q shape %v has a negative dimension", name, shape)
		}
		n *= d
		if n > int64(limit) {
			return 0, fmt.Errorf("input %q shape %v says more elements than its %d bytes of data can hold", name, shape, limit)
		}
	}
	return int(n), nil
}

// decodeRaw decodes one raw tensor's JSON data or binary bytes.
func decodeRaw(name, dtName string, shape []int64, data json.RawMessage, bin []byte, binary bool) (rawTensor, error) {
	dt, err := parseDatatype(dtName)
	if err != nil {
		return rawTensor{}, fmt.Errorf("input %q: %w", name, err)
	}
	t := rawTensor{name: name, dt: dt}
	limit := len(data)
	if binary {
		limit = len(bin)
	}
	count, err := elements(name, shape, limit)
	if err != nil {
		return t, err
	}
	switch {
	case dt == dtBytes && binary:
		t.strs, err = decodeBinaryStrings(name, bin, count)
	case dt == dtBytes:
		t.strs, err = decodeJSONStrings(name, data, count)
	case binary:
		if len(bin) != count*dt.size() {
			return t, fmt.Errorf("input %q: %d bytes of binary data; shape %v of %s takes %d", name, len(bin), shape, dt, count*dt.size())
		}
		t.nums = make([]float64, count)
		decodeBinary(dt, bin, t.nums)
		err = checkFinite(name, t.nums)
	default:
		t.nums = make([]float64, count)
		err = decodeJSONNumbers(name, data, dt, t.nums)
	}
	return t, err
}

// rawFromJSON decodes a JSON/binary request's raw inputs.
func rawFromJSON(req *v2Request, bin []byte) ([]rawTensor, error) {
	out := make([]rawTensor, 0, len(req.Inputs))
	for i := range req.Inputs {
		in := &req.Inputs[i]
		size, hasSize, err := paramInt(in.Parameters, "binary_data_size")
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		var chunk []byte
		if hasSize {
			if size < 0 || size > int64(len(bin)) {
				return nil, fmt.Errorf("input %q: binary_data_size %d, but %d bytes of binary data remain", in.Name, size, len(bin))
			}
			chunk, bin = bin[:size], bin[size:]
		}
		t, err := decodeRaw(in.Name, in.Datatype, in.Shape, in.Data, chunk, hasSize)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(bin) > 0 {
		return nil, fmt.Errorf("%d bytes of binary data are left after the inputs' binary_data_size", len(bin))
	}
	return out, nil
}

// rawFromGRPC decodes a gRPC request's raw inputs.
func rawFromGRPC(req *inference.ModelInferRequest) ([]rawTensor, error) {
	raw := len(req.RawInputContents) > 0
	if raw && len(req.RawInputContents) != len(req.Inputs) {
		return nil, fmt.Errorf("raw_input_contents has %d entries for %d inputs", len(req.RawInputContents), len(req.Inputs))
	}
	out := make([]rawTensor, 0, len(req.Inputs))
	for i, in := range req.Inputs {
		if raw {
			t, err := decodeRaw(in.Name, in.Datatype, in.Shape, nil, req.RawInputContents[i], true)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		}
		dt, err := parseDatatype(in.Datatype)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		t := rawTensor{name: in.Name, dt: dt}
		count, err := elements(in.Name, in.Shape, contentsLen(in.Contents))
		if err != nil {
			return nil, err
		}
		if dt == dtBytes {
			if in.Contents == nil || len(in.Contents.BytesContents) != count {
				return nil, fmt.Errorf("input %q: contents.bytes_contents holds %d elements; its shape says %d", in.Name, contentsLen(in.Contents), count)
			}
			t.strs = in.Contents.BytesContents
		} else {
			t.nums = make([]float64, count)
			if err := fillContents(in.Name, dt, in.Contents, t.nums); err != nil {
				return nil, err
			}
			if err := checkFinite(in.Name, t.nums); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// prepareRaw runs raw inputs through the artifact's preprocessing: table
// columns become records, BYTES images are decoded. It returns the
// network's input rows, their count and the records (for the observer).
func prepareRaw(v *version, ts []rawTensor) ([]float32, int, []map[string]any, error) {
	p := v.pred
	if len(ts) == 0 {
		return nil, 0, nil, errors.New("the request has no inputs")
	}
	switch p.Kind() {
	case predict.Image:
		if len(ts) != 1 || ts[0].dt != dtBytes {
			return nil, 0, nil, fmt.Errorf("model %q takes its prepared input %q (FP32 [N %s]) or one BYTES input of encoded images", v.model, v.input, dims(p.InputShape()))
		}
		imgs := make([]image.Image, len(ts[0].strs))
		for i, b := range ts[0].strs {
			img, err := data.DecodeImage(b, fmt.Sprintf("input %q element %d", ts[0].name, i))
			if err != nil {
				return nil, 0, nil, err
			}
			imgs[i] = img
		}
		x, err := p.PrepareImages(imgs)
		return x, len(imgs), nil, err
	case predict.Table:
		cols := p.InputColumns()
		n := ts[0].len()
		records := make([]map[string]any, n)
		for i := range records {
			records[i] = make(map[string]any, len(ts))
		}
		for _, t := range ts {
			if !slices.Contains(cols, t.name) {
				return nil, 0, nil, fmt.Errorf("input %q is neither model %q's prepared input %q nor one of its columns %v", t.name, v.model, v.input, cols)
			}
			if t.len() != n {
				return nil, 0, nil, fmt.Errorf("input %q holds %d rows, input %q %d; columns must be the same length", t.name, t.len(), ts[0].name, n)
			}
			for i := range n {
				if t.dt == dtBytes {
					records[i][t.name] = string(t.strs[i])
				} else {
					records[i][t.name] = t.nums[i]
				}
			}
		}
		x, _, err := p.PrepareRecords(records)
		return x, n, records, err
	}
	return nil, 0, nil, fmt.Errorf("model %q takes one input, %q", v.model, v.input)
}

// decodeJSONStrings reads a BYTES tensor's JSON data (strings, flat or
// nested) into byte strings.
func decodeJSONStrings(name string, raw []byte, count int) ([][]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("input %q: %w", name, err)
	}
	out := make([][]byte, 0, count)
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		case string:
			out = append(out, []byte(v))
		default:
			return fmt.Errorf("input %q element %d is %T; datatype BYTES takes strings", name, len(out), v)
		}
		return nil
	}
	if err := walk(v); err != nil {
		return nil, err
	}
	if len(out) != count {
		return nil, fmt.Errorf("input %q holds %d elements; its shape says %d", name, len(out), count)
	}
	return out, nil
}

// decodeBinaryStrings splits a BYTES tensor's binary data: each element is
// a 4-byte little-endian length and that many bytes.
func decodeBinaryStrings(name string, b []byte, count int) ([][]byte, error) {
	out := make([][]byte, 0, count)
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("input %q: binary BYTES element %d is cut short (%d bytes where a 4-byte length belongs)", name, len(out), len(b))
		}
		l := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		if l > len(b)-4 {
			return nil, fmt.Errorf("input %q: binary BYTES element %d says %d bytes, %d remain", name, len(out), l, len(b)-4)
		}
		out = append(out, b[4:4+l])
		b = b[4+l:]
	}
	if len(out) != count {
		return nil, fmt.Errorf("input %q holds %d BYTES elements; its shape says %d", name, len(out), count)
	}
	return out, nil
}

// fillPrepared decodes raw inputs, prepares them and fills a job with the rows.
func fillPrepared(v *version, decode func() ([]rawTensor, error)) (*job, []map[string]any, error) {
	ts, err := decode()
	if err != nil {
		return nil, nil, err
	}
	x, n, records, err := prepareRaw(v, ts)
	if err != nil {
		return nil, nil, err
	}
	j := getJob(n, v.pred.InputSize(), v.pred.Outputs())
	copy(j.x, x)
	return j, records, nil
}
