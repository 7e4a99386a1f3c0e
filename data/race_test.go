//go:build race

package data

// raceEnabled: the race detector slows the readers about ten times, and
// the single-goroutine hostile corpus gains nothing from it.
const raceEnabled = true
