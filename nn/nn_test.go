package nn

import (
	"slices"
	"testing"

	"github.com/shenml/shen/tensor"
)

// TestLayersMatchTorch replays testdata/torch/nn.json (gen_nn.py): Linear,
// LayerNorm, BatchNorm, Embedding and every loss, forward and backward.
func TestLayersMatchTorch(t *testing.T) {
	for _, c := range loadGolden(t, "nn") {
		t.Run(c.Name, func(t *testing.T) {
			var a struct {
				Shape          []int
				Reduction      Reduction
				Beta, Delta    float32
				PaddingIdx     int       `json:"padding_idx"`
				RunningMean    []float32 `json:"running_mean"`
				RunningVar     []float32 `json:"running_var"`
				Weight         []float32
				PosWeight      []float32 `json:"pos_weight"`
				LabelSmoothing float32   `json:"label_smoothing"`
				Keys           []string
			}
			if err := c.DecodeArgs(&a); err != nil {
				t.Fatal(err)
			}
			in := goldenLeaves(c)
			var out *tensor.Tensor
			switch c.Op {
			case "linear":
				out = (&Linear{Weight: in[1], Bias: in[2]}).Forward(in[0])
			case "linear_nobias":
				out = (&Linear{Weight: in[1]}).Forward(in[0])
			case "layernorm":
				ln := NewLayerNorm(a.Shape...)
				ln.Weight, ln.Bias = in[1], in[2]
				out = ln.Forward(in[0])
			case "batchnorm_train", "batchnorm_eval":
				bn := NewBatchNorm1D(in[1].Numel())
				if in[0].Dim() == 4 {
					bn = NewBatchNorm2D(in[1].Numel())
				}
				bn.Weight, bn.Bias = in[1], in[2]
				if c.Op == "batchnorm_eval" {
					copy(bn.RunningMean.Data(), a.RunningMean)
					copy(bn.RunningVar.Data(), a.RunningVar)
					Train(bn, false)
				}
				out = bn.Forward(in[0])
				if c.Op == "batchnorm_train" {
					expectGolden(t, "running_mean", bn.RunningMean, c.Extra[0], 1e-5)
					expectGolden(t, "running_var", bn.RunningVar, c.Extra[1], 1e-5)
				}
			case "embedding":
				e := &Embedding{Weight: in[1], PaddingIdx: a.PaddingIdx}
				out = e.Lookup(goldenInts(c.Inputs[0]))
			case "mse":
				out = MSELoss(in[0], in[1], a.Reduction)
			case "l1":
				out = L1Loss(in[0], in[1], a.Reduction)
			case "smoothl1":
				out = SmoothL1Loss(in[0], in[1], a.Beta, ReduceMean)
			case "huber":
				out = HuberLoss(in[0], in[1], a.Delta, ReduceMean)
			case "cross_entropy":
				o := CrossEntropyOptions{LabelSmoothing: a.LabelSmoothing, Reduction: a.Reduction}
				if a.Weight != nil {
					o.Weight = tensor.FromSlice(a.Weight)
				}
				out = CrossEntropyWith(in[0], goldenInts(c.Inputs[1]), o)
			case "nll":
				out = NLLLoss(in[0], goldenInts(c.Inputs[1]), tensor.FromSlice(a.Weight), -100, ReduceMean)
			case "bce":
				out = BCELoss(in[0], in[1], nil, ReduceMean)
			case "bce_logits":
				var pw *tensor.Tensor
				if a.PosWeight != nil {
					pw = tensor.FromSlice(a.PosWeight)
				}
				out = BCEWithLogitsLoss(in[0], in[1], nil, pw, ReduceMean)
			case "conv2d_same":
				ws := in[1].Shape()
				opts, extra := buildConv2DSame(ws[2], ws[3])
				c := &Conv2D{Weight: in[1], Bias: in[2], Options: opts, ExtraPad: extra}
				out = c.Forward(in[0])
			case "conv1d_same":
				k := in[1].Shape()[2]
				c := NewConv1D(in[1].Shape()[1], in[1].Shape()[0], k, PaddingSame())
				c.Weight, c.Bias = in[1], in[2]
				out = c.Forward(in[0])
			case "state_dict_keys":
				checkKeys(t, a.Keys)
				return
			default:
				t.Fatalf("no Go op for fixture op %q", c.Op)
			}
			checkGolden(t, c, in, out, 1e-5)
		})
	}
}

// buildConv2DSame returns the symmetric part of padding "same" for a
// kh×kw kernel, as NewConv2D computes it (NewConv2D takes square kernels).
func buildConv2DSame(kh, kw int) (tensor.Conv2DOptions, [2]int) {
	cfg := buildConv([]ConvOption{PaddingSame()}, [2]int{kh, kw})
	return tensor.Conv2DOptions{Stride: cfg.stride, Padding: cfg.padding, Dilation: cfg.dilation, Groups: cfg.groups}, cfg.extra
}

// composite mirrors the torch model in gen_nn.py to check state dict names.
type composite struct {
	Features *Sequential
	Norm     *LayerNorm
	Emb      *Embedding
	Head     *Linear
}

func (m *composite) Members() Members {
	return Members{Children: []Named[Module]{{"features", m.Features}, {"norm", m.Norm}, {"emb", m.Emb}, {"head", m.Head}}}
}

func checkKeys(t *testing.T, want []string) {
	m := &composite{
		Features: NewSequential(NewConv2D(1, 4, 3), NewBatchNorm2D(4), ReLU{}, NewMaxPool2D(2)),
		Norm:     NewLayerNorm(16),
		Emb:      NewEmbedding(10, 16, -1),
		Head:     NewLinear(16, 3),
	}
	var got []string
	for _, e := range StateDict(m) {
		got = append(got, e.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("state dict keys\n got %v\nwant %v", got, want)
	}
}

// TestSequentialInferenceReleases checks that releasing intermediates
// under NoGrad leaves the input, views (Flatten) and the result intact.
func TestSequentialInferenceReleases(t *testing.T) {
	SetSeed(3)
	net := NewSequential(NewConv2D(1, 2, 3), ReLU{}, NewFlatten(), Identity{}, NewLinear(2*4*4, 3))
	x := tensor.RandN(tensor.NewRNG(1), 2, 1, 6, 6)
	xCopy := slices.Clone(x.Data())
	want := slices.Clone(net.Forward(x).Data()) // with gradients: nothing released
	for range 3 {
		var got []float32
		NoGrad(net, func() { got = slices.Clone(net.Forward(x).Data()) })
		if !slices.Equal(got, want) {
			t.Fatalf("inference output %v, want %v", got, want)
		}
	}
	if !slices.Equal(x.Data(), xCopy) {
		t.Fatal("the input changed")
	}
}
