// Package predict turns a saved model artifact into answers: the one
// inference path that `shen predict`, `shen evaluate`, the Go API and the
// server share, so a request meets exactly the preprocessing that
// training fitted.
//
// A Predictor (Load, New) is safe for concurrent use. It takes raw inputs
// — table records (Records, Frame), images (Images, ReadImages), windows
// of time-ordered rows (Frame on a window model), text prompts (Generate)
// or already prepared features (Tensor) — and gives a Result: class names,
// probabilities and the decision threshold for classifiers, values in the
// target's units for regressors, and per-row Notes a client can act on
// (an unseen category, an imputed value, a value outside the training
// range, a value of the wrong type). A row that cannot be used is a
// RowError naming the row and the field.
//
// The batch entry points are Forward (prepared features in, raw outputs
// out, no allocation in steady state: what a dynamic batcher calls with
// rows from many requests) and Answer (raw outputs to answers).
//
// Inference needs no process-wide switch: New takes the model's
// parameters out of autograd, so a process may train one model while it
// serves another.
package predict
