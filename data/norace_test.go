//go:build !race

package data

// raceEnabled: see race_test.go.
const raceEnabled = false
