package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Limits bound what Read accepts from a file, so that a corrupt or hostile
// model is an error before it is an allocation.
type Limits struct {
	// MaxBytes is the largest file accepted (default 2 GiB, protobuf's own limit).
	MaxBytes int64
	// MaxElements bounds every tensor, stored or computed (default 1<<30).
	MaxElements int64
	// MaxNodes bounds the node count of each graph (default 1<<20).
	MaxNodes int
}

// DefaultLimits are the bounds Read uses when given a zero Limits.
var DefaultLimits = Limits{MaxBytes: 2 << 30, MaxElements: 1 << 30, MaxNodes: 1 << 20}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultLimits.MaxNodes
	}
	return l
}

// ReadFile reads and checks the ONNX model in path (see Read). Only
// regular files are read: a FIFO or a device is refused, not waited on.
func ReadFile(path string, lim Limits) (*onnxpb.ModelProto, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Read(f, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Read decodes an ONNX ModelProto and checks every stored tensor against
// lim: dimensions non-negative, element counts bounded and matching the
// bytes present, no external data. The returned model's tensors are safe
// to convert with TensorFromProto.
func Read(r io.Reader, lim Limits) (*onnxpb.ModelProto, error) {
	lim = lim.orDefault()
	buf, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > lim.MaxBytes {
		return nil, fmt.Errorf("onnx: model larger than the %d-byte limit", lim.MaxBytes)
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(buf, m); err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model: %w", err)
	}
	if m.Graph == nil {
		return nil, errors.New("onnx: model has no graph")
	}
	if err := checkGraph(m.Graph, lim, 0); err != nil {
		return nil, err
	}
	return m, nil
}

// checkGraph validates the tensors of g and of its subgraphs.
func checkGraph(g *onnxpb.GraphProto, lim Limits, depth int) error {
	if depth > 16 {
		return errors.New("onnx: subgraphs nested more than 16 deep")
	}
	if len(g.Node) > lim.MaxNodes {
		return fmt.Errorf("onnx: graph %q has %d nodes, over the limit of %d", g.GetName(), len(g.Node), lim.MaxNodes)
	}
	for _, t := range g.Initializer {
		if _, err := checkTensorProto(t, lim); err != nil {
			return fmt.Errorf("onnx: initializer %q: %w", t.GetName(), err)
		}
	}
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			if err := checkAttr(a, lim, depth); err != nil {
				return fmt.Errorf("onnx: node %q (%s) attribute %q: %w", n.GetName(), n.GetOpType(), a.GetName(), err)
			}
		}
	}
	return nil
}

func checkAttr(a *onnxpb.AttributeProto, lim Limits, depth int) error {
	if a.T != nil {
		if _, err := checkTensorProto(a.T, lim); err != nil {
			return err
		}
	}
	for _, t := range a.Tensors {
		if _, err := checkTensorProto(t, lim); err != nil {
			return err
		}
	}
	if a.G != nil {
		if err := checkGraph(a.G, lim, depth+1); err != nil {
			return err
		}
	}
	for _, g := range a.Graphs {
		if err := checkGraph(g, lim, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// elemBytes is the raw_data size of one element, 0 for types not stored raw here.
func elemBytes(dt onnxpb.TensorProto_DataType) int {
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_DOUBLE:
		return 8
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT8, onnxpb.TensorProto_BOOL:
		return 1
	case onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return 2
	}
	return 0
}

// checkTensorProto validates shape, element count and data size of t and
// returns its element count.
func checkTensorProto(t *onnxpb.TensorProto, lim Limits) (int, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return 0, errors.New("external tensor data is not supported; embed the weights in the model file")
	}
	if t.Segment != nil {
		return 0, errors.New("segmented tensors are not supported")
	}
	if len(t.Dims) > 32 {
		return 0, fmt.Errorf("%d dimensions, over the limit of 32", len(t.Dims))
	}
	n := int64(1)
	for i, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d > 0 && n > lim.MaxElements/d {
			return 0, fmt.Errorf("shape %v has over %d elements", t.Dims, lim.MaxElements)
		}
		n *= d
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	if raw := t.GetRawData(); raw != nil {
		eb := elemBytes(dt)
		if eb == 0 {
			return 0, fmt.Errorf("raw data of type %s is not supported", dt)
		}
		if int64(len(raw)) != n*int64(eb) {
			return 0, fmt.Errorf("shape %v needs %d bytes of %s, raw_data has %d", t.Dims, n*int64(eb), dt, len(raw))
		}
		return int(n), nil
	}
	var have int
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		have = len(t.FloatData)
	case onnxpb.TensorProto_INT32, onnxpb.TensorProto_INT16, onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT16,
		onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		have = len(t.Int32Data)
	case onnxpb.TensorProto_INT64:
		have = len(t.Int64Data)
	case onnxpb.TensorProto_DOUBLE:
		have = len(t.DoubleData)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		have = len(t.Uint64Data)
	case onnxpb.TensorProto_STRING:
		have = len(t.StringData)
	default:
		return 0, fmt.Errorf("data type %d is not supported", t.GetDataType())
	}
	if int64(have) != n {
		return 0, fmt.Errorf("shape %v needs %d values of %s, the tensor holds %d", t.Dims, n, dt, have)
	}
	return int(n), nil
}

// TensorFromProto converts a stored tensor to a runtime Tensor after the
// checks Read makes. Float32 and float64 become float32; the integer and
// boolean types become int64.
func TensorFromProto(t *onnxpb.TensorProto, lim Limits) (*Tensor, error) {
	lim = lim.orDefault()
	n, err := checkTensorProto(t, lim)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	out := &Tensor{Shape: shape}
	raw := t.GetRawData()
	le := binary.LittleEndian
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		out.DType = Float
		out.F = make([]float32, n)
		if raw != nil {
			for i := range out.F {
				out.F[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			}
		} else {
			copy(out.F, t.FloatData)
		}
	case onnxpb.TensorProto_DOUBLE:
		out.DType = Double
		out.F = make([]float32, n)
		for i := range out.F {
			if raw != nil {
				out.F[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
			} else {
				out.F[i] = float32(t.DoubleData[i])
			}
		}
	case onnxpb.TensorProto_STRING:
		out.DType = String
		out.S = make([]string, n)
		for i, b := range t.StringData {
			out.S[i] = string(b)
		}
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return nil, fmt.Errorf("tensor %q: element type %s is not supported", t.GetName(), dt)
	default:
		out.DType = intDType(dt)
		if out.DType == 0 {
			return nil, fmt.Errorf("tensor %q: element type %s is not supported", t.GetName(), dt)
		}
		out.I = make([]int64, n)
		for i := range out.I {
			out.I[i] = intElem(t, dt, raw, i)
		}
	}
	return out, nil
}

// intDType maps the stored integer types to the runtime's; 0 when unsupported.
func intDType(dt onnxpb.TensorProto_DataType) DType {
	switch dt {
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32, onnxpb.TensorProto_INT16,
		onnxpb.TensorProto_UINT16, onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		if dt == onnxpb.TensorProto_INT32 {
			return Int32
		}
		return Int64
	case onnxpb.TensorProto_INT8:
		return Int8
	case onnxpb.TensorProto_UINT8:
		return Uint8
	case onnxpb.TensorProto_BOOL:
		return Bool
	}
	return 0
}

// intElem reads element i of an integer tensor from raw data or typed fields.
func intElem(t *onnxpb.TensorProto, dt onnxpb.TensorProto_DataType, raw []byte, i int) int64 {
	le := binary.LittleEndian
	if raw != nil {
		switch dt {
		case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
			return int64(le.Uint64(raw[8*i:]))
		case onnxpb.TensorProto_INT32:
			return int64(int32(le.Uint32(raw[4*i:])))
		case onnxpb.TensorProto_UINT32:
			return int64(le.Uint32(raw[4*i:]))
		case onnxpb.TensorProto_INT16:
			return int64(int16(le.Uint16(raw[2*i:])))
		case onnxpb.TensorProto_UINT16:
			return int64(le.Uint16(raw[2*i:]))
		case onnxpb.TensorProto_INT8:
			return int64(int8(raw[i]))
		default: // UINT8, BOOL
			return int64(raw[i])
		}
	}
	switch dt {
	case onnxpb.TensorProto_INT64:
		return t.Int64Data[i]
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		return int64(t.Uint64Data[i])
	}
	return int64(t.Int32Data[i])
}

// TensorToProto converts a runtime tensor to a TensorProto with raw data:
// float32 as FLOAT, integers as INT64 (booleans as BOOL).
func TensorToProto(name string, t *Tensor) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: proto.String(name)}
	for _, d := range t.Shape {
		tp.Dims = append(tp.Dims, int64(d))
	}
	le := binary.LittleEndian
	switch {
	case t.DType == String:
		tp.DataType = proto.Int32(int32(onnxpb.TensorProto_STRING))
		for _, v := range t.S {
			tp.StringData = append(tp.StringData, []byte(v))
		}
	case t.DType == Float || t.DType == Double:
		tp.DataType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		raw := make([]byte, 4*len(t.F))
		for i, v := range t.F {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		tp.RawData = raw
	case t.DType == Bool:
		tp.DataType = proto.Int32(int32(onnxpb.TensorProto_BOOL))
		raw := make([]byte, len(t.I))
		for i, v := range t.I {
			if v != 0 {
				raw[i] = 1
			}
		}
		tp.RawData = raw
	default:
		tp.DataType = proto.Int32(int32(onnxpb.TensorProto_INT64))
		raw := make([]byte, 8*len(t.I))
		for i, v := range t.I {
			le.PutUint64(raw[8*i:], uint64(v))
		}
		tp.RawData = raw
	}
	return tp
}

// ReadTensorFile reads one serialized TensorProto (the input_N.pb and
// output_N.pb files of the ONNX test layout).
func ReadTensorFile(path string, lim Limits) (*Tensor, error) {
	lim = lim.orDefault()
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadTensor(f, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadTensor decodes one serialized TensorProto within lim.
func ReadTensor(r io.Reader, lim Limits) (*Tensor, error) {
	lim = lim.orDefault()
	buf, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > lim.MaxBytes {
		return nil, fmt.Errorf("onnx: tensor larger than the %d-byte limit", lim.MaxBytes)
	}
	tp := new(onnxpb.TensorProto)
	if err := proto.Unmarshal(buf, tp); err != nil {
		return nil, fmt.Errorf("onnx: not a TensorProto: %w", err)
	}
	return TensorFromProto(tp, lim)
}
