// Package report draws what Shen shows people: SVG charts (line charts of
// learning curves, confusion matrices) and self-contained HTML pages (the
// training run report) with those charts inline, so a report opens
// anywhere without a network. It reads plain data (run-log Records,
// metrics reports) and imports nothing above metrics, so training,
// evaluation, tuning and monitoring all draw with it.
package report
