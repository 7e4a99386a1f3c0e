package nn

import (
	"fmt"
	"math"

	"github.com/shenml/shen/tensor"
)

// Embedding maps token ids to rows of Weight [NumEmbeddings, Dim]
// (torch.nn.Embedding). PaddingIdx < 0 means none; otherwise that row is
// initialised to zeros and receives no gradient.
//
// Shape: ids of any shape [*] (a 0-d id included) give [*, Dim]. Lookup
// takes the ids as an IntTensor, as torch takes a LongTensor; Forward
// takes them as whole numbers in a float32 tensor, so an Embedding is a
// Layer and sits first in a Sequential fed by a float loader.
type Embedding struct {
	Weight     *tensor.Tensor
	PaddingIdx int
}

// NewEmbedding returns an Embedding initialised N(0, 1) as torch does.
func NewEmbedding(num, dim, paddingIdx int) *Embedding {
	e := &Embedding{Weight: newParam(num, dim), PaddingIdx: paddingIdx}
	Normal(e.Weight, 0, 1)
	if paddingIdx >= 0 {
		clear(e.Weight.Data()[paddingIdx*dim : (paddingIdx+1)*dim])
	}
	return e
}

// Members lists the weight.
func (e *Embedding) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", e.Weight}}}
}

// Lookup returns the rows for ids, shaped ids.Shape() + [Dim].
func (e *Embedding) Lookup(ids *tensor.IntTensor) *tensor.Tensor {
	return tensor.Embedding(ids, e.Weight, e.PaddingIdx)
}

// Forward looks up ids held as float32 whole numbers (exact up to 2^24),
// so that Embedding is a Layer: NewSequential(NewEmbedding(100, 16, -1),
// NewFlatten(), NewLinear(16*T, 2)) reads [B, T] ids from a float batch.
// It panics naming the position of an id that is not a whole number in
// [0, NumEmbeddings). The ids get no gradient (torch's embedding has none
// for its indices); the weight does.
func (e *Embedding) Forward(ids *tensor.Tensor) *tensor.Tensor {
	num := e.Weight.Size(0)
	d := ids.Data()
	idx := make([]int64, len(d))
	for i, v := range d {
		if v != float32(math.Trunc(float64(v))) || v < 0 || int(v) >= num {
			panic(fmt.Sprintf("nn: Embedding(%d, %d).Forward: id %v at flat position %d of input %v is not a whole number in [0, %d)", num, e.Weight.Size(1), v, i, ids.Shape(), num))
		}
		idx[i] = int64(v)
	}
	it := tensor.IntFromSlice(idx)
	return e.Lookup(it.Reshape(ids.Shape()...)) // Reshape() keeps a 0-d id 0-d
}
