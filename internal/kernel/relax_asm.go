//go:build (amd64 || arm64) && !noasm

package kernel

// cpuRelax is a spin-wait hint (PAUSE on amd64, YIELD on arm64) for the
// pool's polling loops.
func cpuRelax()
