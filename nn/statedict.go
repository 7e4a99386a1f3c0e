package nn

import (
	"fmt"
	"strings"

	"github.com/shenml/shen/model/safetensors"
	"github.com/shenml/shen/tensor"
)

// The safetensors package imports only the standard library, so nn can
// use it without reaching up the layers to model.

// SaveSafetensors writes m's state dict to path as a safetensors file, as
// safetensors.torch.save_model(model, path) does: every parameter and
// buffer under its dotted name, with the dtypes torch's state_dict() has
// (F32, and I64 for the integer counter num_batches_tracked), shapes as
// they are (a 0-d scalar stays 0-d, never [1]) and metadata
// {"format": "pt"}, so torch loads the file with strict=True. The file is
// written atomically (a temporary file renamed over path).
func SaveSafetensors(m Module, path string) error {
	f, err := StateDictFile(m)
	if err != nil {
		return fmt.Errorf("nn: %s: %w", path, err)
	}
	return safetensors.WriteFile(path, f)
}

// LoadSafetensors reads a safetensors file, from Shen or from Python
// (torch's state_dict() saved with safetensors), into m by state-dict name,
// as safetensors.torch.load_model(model, path, strict) does. With strict,
// every entry of m must be in the file and nothing else; without, the
// missing and unexpected names are returned instead, as torch's
// load_state_dict(strict=False). F32, F16, BF16 and F64 values are
// converted to float32 and integer values (num_batches_tracked) to counts.
// Errors name the file and the tensor; nothing is changed when it fails.
func LoadSafetensors(m Module, path string, strict bool) (IncompatibleKeys, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return IncompatibleKeys{}, err
	}
	keys, err := LoadStateDictFrom(m, f, strict)
	if err != nil {
		return keys, fmt.Errorf("nn: %s: %w", path, err)
	}
	return keys, nil
}

// StateDictFile returns m's state dict as an in-memory safetensors file
// (see SaveSafetensors), for writing with safetensors.Write to any
// io.Writer. The values are copies.
func StateDictFile(m Module) (*safetensors.File, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"format": "pt"}}
	for _, e := range StateDict(m) {
		var err error
		if isCounter(e.Name) {
			d := e.Value.Data()
			ints := make([]int64, len(d))
			for i, v := range d {
				ints[i] = int64(v)
			}
			err = f.AddInt64(e.Name, e.Value.Shape(), ints)
		} else {
			err = f.AddFloat32(e.Name, e.Value.Shape(), e.Value.Data())
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// LoadStateDictFrom loads an in-memory safetensors file into m (see
// LoadSafetensors).
func LoadStateDictFrom(m Module, f *safetensors.File, strict bool) (IncompatibleKeys, error) {
	values := make(map[string]*tensor.Tensor, len(f.Tensors))
	for name, t := range f.Tensors {
		var vals []float32
		if isInteger(t.DType) {
			ints, _, err := f.Int64(name)
			if err != nil {
				return IncompatibleKeys{}, err
			}
			vals = make([]float32, len(ints))
			for i, v := range ints {
				vals[i] = float32(v)
			}
		} else {
			var err error
			if vals, _, err = f.Float32(name); err != nil {
				return IncompatibleKeys{}, err
			}
		}
		if len(t.Shape) == 0 { // FromSlice without a shape would make it [1]
			values[name] = tensor.FromSlice(vals).Reshape()
		} else {
			values[name] = tensor.FromSlice(vals, t.Shape...)
		}
	}
	return LoadStateDictWith(m, values, strict)
}

// isCounter reports whether a state-dict entry is one torch keeps as int64
// (BatchNorm's num_batches_tracked).
func isCounter(name string) bool {
	return name == "num_batches_tracked" || strings.HasSuffix(name, ".num_batches_tracked")
}

func isInteger(d safetensors.DType) bool {
	switch d {
	case safetensors.I64, safetensors.I32, safetensors.I16, safetensors.I8,
		safetensors.U64, safetensors.U32, safetensors.U16, safetensors.U8, safetensors.Bool:
		return true
	}
	return false
}
