//go:build amd64 && !noasm

package kernel

import (
	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

//go:generate go run gen_bf16.go

// bf16AVX512 is the 12x32 VDPBF16PS kernel (bf16_amd64.s).
//
//go:noescape
func bf16AVX512(pairs int, a, b *uint32, c *float32, ldc int)

// bf16AMX is the 32x32 TDPBF16PS kernel (bf16_amd64.s).
//
//go:noescape
func bf16AMX(cfg *byte, pairs int, a, b *uint32, c *float32, ldc int)

// amxConfig is the tile configuration LDTILECFG loads: palette 1, tiles
// 0-7 of 16 rows of 64 bytes (colsb at bytes 16+2i, rows at 48+i).
var amxConfig = func() (c [64]byte) {
	c[0] = 1
	for t := 0; t < 8; t++ {
		c[16+2*t] = 64
		c[48+t] = 16
	}
	return c
}()

func kernAMX(pairs int, a, b *uint32, c *float32, ldc int) {
	bf16AMX(&amxConfig[0], pairs, a, b, c, ldc)
}

// Linux gives a process the AMX tile data state only on request
// (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it the
// first tile instruction faults.
const (
	archReqXcompPerm  = 0x1023
	xfeatureXtiledata = 18
)

// requestAMX asks Linux for the tile state and reports whether it was
// granted (refused on kernels before 5.16 or under a seccomp filter).
func requestAMX() bool {
	_, _, errno := unix.Syscall(unix.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
}

var (
	bf16KernAVX512 = bf16Kernel{name: "avx512bf16", mr: 12, nr: 32, pairAlign: 1, fn: bf16AVX512}
	bf16KernAMX    = bf16Kernel{name: "amx-bf16", mr: 32, nr: 32, pairAlign: 16, aRows: true, evenFirst: true, fn: kernAMX}
)

func init() {
	switch {
	case cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16 && requestAMX():
		bf16Micro = bf16KernAMX
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16:
		bf16Micro = bf16KernAVX512
	}
}

// bf16Kernels lists the instruction kernels this CPU can run, for the tests.
func bf16Kernels() []bf16Kernel {
	var ks []bf16Kernel
	if cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16 && requestAMX() {
		ks = append(ks, bf16KernAMX)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 {
		ks = append(ks, bf16KernAVX512)
	}
	return ks
}
