package nn

import (
	"fmt"
	"math"

	"github.com/shenml/shen/tensor"
)

// SinusoidalPositionalEncoding adds the fixed position table of "Attention
// Is All You Need" to its input [B, L, D] (or [L, D]):
//
//	PE[pos, 2i]   = sin(pos / 10000^(2i/D))
//	PE[pos, 2i+1] = cos(pos / 10000^(2i/D))
//
// for pos < MaxLen. The table is what the PyTorch tutorials register as a
// non-persistent buffer: it is rebuilt from (MaxLen, D) rather than saved,
// so it is not in the state dict, and it has no parameters. Cost: one
// broadcast add of B·L·D elements; the table costs MaxLen·D floats once.
type SinusoidalPositionalEncoding struct {
	MaxLen, D int
	table     *tensor.Tensor // [MaxLen, D], not in Members on purpose
}

// NewSinusoidalPositionalEncoding builds the table for positions below
// maxLen and width d (computed in float64, then rounded).
func NewSinusoidalPositionalEncoding(maxLen, d int) *SinusoidalPositionalEncoding {
	if maxLen <= 0 || d <= 0 {
		panic(fmt.Sprintf("nn: SinusoidalPositionalEncoding(%d, %d): sizes must be positive", maxLen, d))
	}
	t := tensor.Empty(maxLen, d)
	td := t.Data()
	for pos := 0; pos < maxLen; pos++ {
		for i := 0; i < d; i += 2 {
			angle := float64(pos) * math.Exp(-float64(i)*math.Log(10000)/float64(d))
			td[pos*d+i] = float32(math.Sin(angle))
			if i+1 < d {
				td[pos*d+i+1] = float32(math.Cos(angle))
			}
		}
	}
	return &SinusoidalPositionalEncoding{MaxLen: maxLen, D: d, table: t}
}

// Table returns the [MaxLen, D] table (shared, not a copy).
func (p *SinusoidalPositionalEncoding) Table() *tensor.Tensor { return p.table }

// Members is empty: the table is a non-persistent buffer.
func (p *SinusoidalPositionalEncoding) Members() Members { return Members{} }

// Forward returns x + PE[:L] for x [B, L, D] or [L, D]; it panics when L
// exceeds MaxLen.
func (p *SinusoidalPositionalEncoding) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(x, positionRows(x, p.table, "SinusoidalPositionalEncoding"))
}

// LearnedPositionalEmbedding adds a trained vector per position to its
// input [B, L, D] (or [L, D]), as BERT and ViT do: Weight [MaxLen, D]
// initialised N(0, 1) like torch.nn.Embedding, saved as "weight".
// Shape: [B, L, D] or [L, D] with L ≤ MaxLen; output the same. Cost: one
// broadcast add forward; backward sums the gradient over the batch into
// the first L rows of Weight.
type LearnedPositionalEmbedding struct {
	Weight *tensor.Tensor
}

// NewLearnedPositionalEmbedding returns an embedding for positions below maxLen of width d.
func NewLearnedPositionalEmbedding(maxLen, d int) *LearnedPositionalEmbedding {
	if maxLen <= 0 || d <= 0 {
		panic(fmt.Sprintf("nn: LearnedPositionalEmbedding(%d, %d): sizes must be positive", maxLen, d))
	}
	e := &LearnedPositionalEmbedding{Weight: newParam(maxLen, d)}
	Normal(e.Weight, 0, 1)
	return e
}

// Members lists the weight.
func (e *LearnedPositionalEmbedding) Members() Members {
	return Members{Params: []Named[*tensor.Tensor]{{"weight", e.Weight}}}
}

// Forward returns x + Weight[:L] for x [B, L, D] or [L, D]; it panics when
// L exceeds the table.
func (e *LearnedPositionalEmbedding) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(x, positionRows(x, e.Weight, "LearnedPositionalEmbedding"))
}

// positionRows returns the first L rows of table for x [..., L, D].
func positionRows(x, table *tensor.Tensor, name string) *tensor.Tensor {
	maxLen, d := table.Size(0), table.Size(1)
	if x.Dim() < 2 || x.Size(-1) != d || x.Size(-2) > maxLen {
		panic(fmt.Sprintf("nn: %s(max len %d, d %d): input of shape %v, want [B, L<=%d, %d]", name, maxLen, d, x.Shape(), maxLen, d))
	}
	return table.Narrow(0, 0, x.Size(-2))
}
