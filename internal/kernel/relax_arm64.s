//go:build arm64 && !noasm

#include "textflag.h"

// func cpuRelax()
// One spin-wait hint: YIELD tells the core (and an SMT sibling) we are polling.
TEXT ·cpuRelax(SB), NOSPLIT|NOFRAME, $0-0
	YIELD
	YIELD
	RET
