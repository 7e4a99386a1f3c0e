package metrics

// Evaluation is how a model scored on a data set: its mean loss and the
// task's metrics.
type Evaluation struct {
	// Loss is the mean loss.
	Loss float64
	// Metrics are the task's scalar metrics (accuracy, macro_f1, roc_auc,
	// log_loss, ... or mae, mse, rmse, r2).
	Metrics map[string]float64
	// Report is the full classification report (nil for regression).
	Report *ClassificationReport
	// Regression is the regression report (nil for classification).
	Regression *RegressionReport
	// Samples is the number of samples evaluated.
	Samples int
}
