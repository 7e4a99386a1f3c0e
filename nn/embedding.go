package nn

import "github.com/shenml/shen/tensor"

// Embedding maps token ids to rows of Weight [NumEmbeddings, Dim]
// (torch.nn.Embedding). PaddingIdx < 0 means none; otherwise that row is
// initialised to zeros and receives no gradient.
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
