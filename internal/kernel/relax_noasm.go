//go:build !(amd64 || arm64) || noasm

package kernel

// cpuRelax is a spin-wait hint; the portable build has none, and an empty
// call still spaces out the polls a little.
//
//go:noinline
func cpuRelax() {}
