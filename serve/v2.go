package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/shenml/shen/predict"
)

// v2Request is an Open Inference Protocol inference request's JSON header.
type v2Request struct {
	ID         string                     `json:"id,omitempty"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Inputs     []v2Input                  `json:"inputs"`
	Outputs    []v2RequestedOutput        `json:"outputs,omitempty"`
}

type v2Input struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage            `json:"data,omitempty"`
}

type v2RequestedOutput struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
}

// paramInt reads an integer parameter; ok is false when it is absent.
func paramInt(p map[string]json.RawMessage, key string) (int64, bool, error) {
	raw, ok := p[key]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("parameter %q is %s, want an integer", key, raw)
	}
	return n, true, nil
}

// paramBool reads a boolean parameter (false when absent).
func paramBool(p map[string]json.RawMessage, key string) (bool, error) {
	raw, ok := p[key]
	if !ok {
		return false, nil
	}
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("parameter %q is %s, want true or false", key, raw)
}

// rowsOf checks a request tensor's shape against the model's row shape and
// returns the row count: [n, row...], [n, InputSize] (rows flattened) or
// the row shape alone for one row.
func rowsOf(name string, shape []int64, row []int, size int) (int, error) {
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("input %q shape %v has a negative dimension", name, shape)
		}
	}
	if len(shape) == len(row) {
		same := true
		for i, d := range row {
			same = same && shape[i] == int64(d)
		}
		if same {
			return 1, nil
		}
	}
	if len(shape) >= 1 {
		inner := int64(1)
		for _, d := range shape[1:] {
			inner *= d
			if inner > 1<<31 {
				break
			}
		}
		ok := inner == int64(size) && (len(shape) == 2 || len(shape) == len(row)+1)
		if len(shape) == len(row)+1 {
			for i, d := range row {
				ok = ok && shape[i+1] == int64(d)
			}
		}
		if ok && shape[0] <= 1<<24 {
			return int(shape[0]), nil
		}
	}
	return 0, fmt.Errorf("input %q has shape %v; the model takes [N %s] (or [N %d])", name, shape, dims(row), size)
}

func dims(row []int) string {
	s := ""
	for i, d := range row {
		if i > 0 {
			s += " "
		}
		s += strconv.Itoa(d)
	}
	return s
}

// checkInput checks a request's one input tensor against the version and
// returns its datatype and row count.
func checkInput(v *version, name, dt string, shape []int64, inputs int) (datatype, int, error) {
	want := v.input
	if v.pred.Kind() == predict.Text {
		return 0, 0, fmt.Errorf("model %q is a language model; send prompts to /v1/models/%s:predict", v.model, v.model)
	}
	if inputs != 1 {
		return 0, 0, fmt.Errorf("model %q takes one input, %q; the request has %d", v.model, want, inputs)
	}
	if name != want {
		return 0, 0, fmt.Errorf("input %q is not an input of model %q; its input is %q", name, v.model, want)
	}
	d, err := parseDatatype(dt)
	if err != nil {
		return 0, 0, fmt.Errorf("input %q: %w", name, err)
	}
	if d == dtBytes {
		return 0, 0, fmt.Errorf("input %q is BYTES; model %q takes numbers (send records, images or text to /v1/models/%s:predict)", name, v.model, v.model)
	}
	n, err := rowsOf(name, shape, v.pred.InputShape(), v.pred.InputSize())
	if err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("input %q has no rows", name)
	}
	return d, n, nil
}

// fillV2JSON decodes a JSON/binary request's one input into a job.
func fillV2JSON(v *version, req *v2Request, bin []byte) (*job, error) {
	if len(req.Inputs) == 0 {
		return nil, errors.New("the request has no inputs")
	}
	in := &req.Inputs[0]
	dt, n, err := checkInput(v, in.Name, in.Datatype, in.Shape, len(req.Inputs))
	if err != nil {
		return nil, err
	}
	size, hasSize, err := paramInt(in.Parameters, "binary_data_size")
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", in.Name, err)
	}
	// Check the claimed size against the bytes at hand before allocating
	// for it, so a shape cannot make the server reserve memory the
	// request never carries.
	count := n * v.pred.InputSize()
	switch {
	case hasSize && size != int64(count*dt.size()):
		return nil, fmt.Errorf("input %q: binary_data_size is %d; shape %v of %s takes %d", in.Name, size, in.Shape, dt, count*dt.size())
	case !hasSize && len(in.Data) < count:
		return nil, fmt.Errorf("input %q: data of %d bytes cannot hold the %d elements its shape says", in.Name, len(in.Data), count)
	}
	j := getJob(n, v.pred.InputSize(), v.pred.Outputs())
	switch {
	case hasSize:
		if len(in.Data) > 0 {
			err = fmt.Errorf("input %q has both data and binary_data_size", in.Name)
		} else if size != int64(len(bin)) {
			err = fmt.Errorf("input %q: binary_data_size is %d but %d bytes of binary data follow the header", in.Name, size, len(bin))
		} else if want := len(j.x) * dt.size(); len(bin) != want {
			err = fmt.Errorf("input %q: %d bytes of binary data; shape %v of %s takes %d", in.Name, len(bin), in.Shape, dt, want)
		} else {
			decodeBinary(dt, bin, j.x)
			err = checkFinite(in.Name, j.x)
		}
	case len(bin) > 0:
		err = fmt.Errorf("%d bytes of binary data follow the header, but no input has binary_data_size", len(bin))
	case len(in.Data) == 0:
		err = fmt.Errorf("input %q has no data (and no binary_data_size)", in.Name)
	default:
		err = decodeJSONNumbers(in.Name, in.Data, dt, j.x)
	}
	if err != nil {
		putJob(j)
		return nil, err
	}
	return j, nil
}
