// Package monitor watches a served model: it compares live inputs and
// predictions with the training profile stored in the artifact (drift),
// joins delayed ground truth to past predictions (online quality), turns
// both, plus error rate and latency, into alerts with hysteresis, and
// exposes everything as Prometheus metrics, JSON endpoints and an embedded
// dashboard. An optional prediction log records traffic for offline
// reports (Report, used by `shen monitor report`).
//
// The statistics (stats.go, kolmogorov.go) are plain functions defined by
// the SciPy functions they reproduce: two-sample Kolmogorov-Smirnov with
// SciPy's exact and asymptotic p-values, Wasserstein-1, PSI, Pearson's
// chi-squared test and the Jensen-Shannon distance. Live traffic is
// compared with the profile's histogram and quantiles (RefCDF), never with
// stored training rows.
//
// The package does not import serve: a server hands each answered request
// to Model.Observe, which only queues it (a bounded channel; a full queue
// drops the observation and counts it), so monitoring never slows or
// blocks a request.
package monitor
