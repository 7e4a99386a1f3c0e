package serve

import "github.com/shenml/shen/model"

// Predictor is what the server needs of a loaded model; *predict.Predictor
// is the implementation (Options.Load).
type Predictor interface {
	// Forward runs n prepared rows x (n*InputSize values) and writes the
	// raw outputs into out (n*Outputs values); safe for concurrent calls.
	Forward(x []float32, n int, out []float32) error
	InputShape() []int // one row's shape
	InputSize() int    // values per row
	Outputs() int      // raw outputs per row
	Model() *model.Model
}
