package serve

import (
	"encoding/binary"
	"fmt"
	"math"
)

// datatype is an Open Inference Protocol tensor element type.
type datatype uint8

const (
	dtInvalid datatype = iota
	dtBool
	dtUint8
	dtUint16
	dtUint32
	dtUint64
	dtInt8
	dtInt16
	dtInt32
	dtInt64
	dtFP16
	dtBF16
	dtFP32
	dtFP64
	dtBytes
)

var datatypeNames = [...]string{"", "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64", "BYTES"}

func (d datatype) String() string { return datatypeNames[d] }

// parseDatatype names the protocol's datatypes; anything else is an error.
func parseDatatype(s string) (datatype, error) {
	for i, n := range datatypeNames {
		if i > 0 && n == s {
			return datatype(i), nil
		}
	}
	return dtInvalid, fmt.Errorf("datatype %q is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES", s)
}

// size is bytes per element in the binary encoding (0 for BYTES, whose
// elements carry their own 4-byte length).
func (d datatype) size() int {
	switch d {
	case dtBool, dtUint8, dtInt8:
		return 1
	case dtUint16, dtInt16, dtFP16, dtBF16:
		return 2
	case dtUint32, dtInt32, dtFP32:
		return 4
	case dtUint64, dtInt64, dtFP64:
		return 8
	}
	return 0
}

// bounds is the range a JSON number must lie in for d, and whether it must
// be a whole number.
func (d datatype) bounds() (lo, hi float64, integral bool) {
	switch d {
	case dtBool:
		return 0, 1, true
	case dtUint8:
		return 0, math.MaxUint8, true
	case dtUint16:
		return 0, math.MaxUint16, true
	case dtUint32:
		return 0, math.MaxUint32, true
	case dtUint64:
		return 0, math.MaxUint64, true
	case dtInt8:
		return math.MinInt8, math.MaxInt8, true
	case dtInt16:
		return math.MinInt16, math.MaxInt16, true
	case dtInt32:
		return math.MinInt32, math.MaxInt32, true
	case dtInt64:
		return math.MinInt64, math.MaxInt64, true
	case dtFP16:
		return -65504, 65504, false
	case dtBF16, dtFP32:
		return -math.MaxFloat32, math.MaxFloat32, false
	}
	return -math.MaxFloat64, math.MaxFloat64, false
}

// decodeBinary converts len(dst) little-endian elements of d in b to
// float32; len(b) must be len(dst)*d.size().
func decodeBinary[T float32 | float64](d datatype, b []byte, dst []T) {
	le := binary.LittleEndian
	switch d {
	case dtBool, dtUint8:
		for i := range dst {
			dst[i] = T(b[i])
		}
	case dtInt8:
		for i := range dst {
			dst[i] = T(int8(b[i]))
		}
	case dtUint16:
		for i := range dst {
			dst[i] = T(le.Uint16(b[2*i:]))
		}
	case dtInt16:
		for i := range dst {
			dst[i] = T(int16(le.Uint16(b[2*i:])))
		}
	case dtFP16:
		for i := range dst {
			dst[i] = T(halfToFloat(le.Uint16(b[2*i:])))
		}
	case dtBF16:
		for i := range dst {
			dst[i] = T(math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16))
		}
	case dtUint32:
		for i := range dst {
			dst[i] = T(le.Uint32(b[4*i:]))
		}
	case dtInt32:
		for i := range dst {
			dst[i] = T(int32(le.Uint32(b[4*i:])))
		}
	case dtFP32:
		for i := range dst {
			dst[i] = T(math.Float32frombits(le.Uint32(b[4*i:])))
		}
	case dtUint64:
		for i := range dst {
			dst[i] = T(le.Uint64(b[8*i:]))
		}
	case dtInt64:
		for i := range dst {
			dst[i] = T(int64(le.Uint64(b[8*i:])))
		}
	case dtFP64:
		for i := range dst {
			dst[i] = T(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	}
}

// halfToFloat widens an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value frac * 2^-24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// checkFinite names the first NaN or infinite value of a tensor.
func checkFinite[T float32 | float64](name string, x []T) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("input %q element %d is %v; inputs must be finite numbers", name, i, v)
		}
	}
	return nil
}
