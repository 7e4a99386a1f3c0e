// Package layering holds the test that keeps Shen's packages layered as
// DESIGN.md draws them: lower layers never import higher ones, so
// inference, scoring, charts and serving never pull in the trainer.
package layering
