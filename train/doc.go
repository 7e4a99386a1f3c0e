// Package train turns a YAML run config into a trained model artifact: the
// config schema, its defaults and its validation; data preparation for a
// run (reading, cleaning, splitting, fitting the preprocessing on the
// training split, cutting windows); the fit loop with validation, early
// stopping, schedules and clipping; checkpoints that resume bit-exactly;
// the epoch progress line; and the run directory (metrics.jsonl, the HTML
// report, the artifact).
//
// What a saved model does afterwards lives elsewhere: inference and
// evaluation of artifacts in package predict, scores in package metrics,
// charts and pages in package report. train imports them; none of them
// imports train.
package train
