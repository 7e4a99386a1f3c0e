package safetensors

// DType names the element type of a tensor, spelled as in the file header
// ("F32", "BF16", "I64", ...).
type DType string

// The element types of the safetensors format. Data is little-endian and
// laid out in C (row-major) order.
const (
	Bool   DType = "BOOL"    // 1 byte, 0 or 1
	F4     DType = "F4"      // 4 bits, MXFP4 (E2M1), two per byte
	F6E2M3 DType = "F6_E2M3" // 6 bits, MXFP6
	F6E3M2 DType = "F6_E3M2" // 6 bits, MXFP6
	U8     DType = "U8"      // unsigned 8-bit integer
	I8     DType = "I8"      // signed 8-bit integer
	F8E5M2 DType = "F8_E5M2" // 8-bit float, 5 exponent bits
	F8E4M3 DType = "F8_E4M3" // 8-bit float, 4 exponent bits
	F8E8M0 DType = "F8_E8M0" // 8-bit power-of-two scale
	I16    DType = "I16"     // signed 16-bit integer
	U16    DType = "U16"     // unsigned 16-bit integer
	F16    DType = "F16"     // IEEE 754 half precision
	BF16   DType = "BF16"    // bfloat16: the top half of a float32
	I32    DType = "I32"     // signed 32-bit integer
	U32    DType = "U32"     // unsigned 32-bit integer
	F32    DType = "F32"     // IEEE 754 single precision
	C64    DType = "C64"     // complex: two float32 (real, imaginary)
	F64    DType = "F64"     // IEEE 754 double precision
	I64    DType = "I64"     // signed 64-bit integer
	U64    DType = "U64"     // unsigned 64-bit integer
)

// dtypeInfo lists every known dtype with its size in bits, in the order of
// the reference implementation's Dtype enum (increasing alignment). The
// writer sorts tensors by descending position in this list, then by name,
// exactly as the reference does.
var dtypeInfo = []struct {
	d    DType
	bits int
}{
	{Bool, 8}, {F4, 4}, {F6E2M3, 6}, {F6E3M2, 6}, {U8, 8}, {I8, 8},
	{F8E5M2, 8}, {F8E4M3, 8}, {F8E8M0, 8}, {I16, 16}, {U16, 16},
	{F16, 16}, {BF16, 16}, {I32, 32}, {U32, 32}, {F32, 32}, {C64, 64},
	{F64, 64}, {I64, 64}, {U64, 64},
}

// rank returns the position of d in the reference enum, or -1 when d is
// not a known dtype.
func (d DType) rank() int {
	for i, e := range dtypeInfo {
		if e.d == d {
			return i
		}
	}
	return -1
}

// Bits returns the size of one element in bits, or 0 when d is not a
// dtype of the format.
func (d DType) Bits() int {
	if r := d.rank(); r >= 0 {
		return dtypeInfo[r].bits
	}
	return 0
}

// Valid reports whether d is a dtype of the format.
func (d DType) Valid() bool { return d.rank() >= 0 }
