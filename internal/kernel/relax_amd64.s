//go:build amd64 && !noasm

#include "textflag.h"

// func cpuRelax()
// One spin-wait hint: PAUSE lets the sibling hyperthread (or, under a
// hypervisor with pause-loop exiting, another vCPU) run while we poll.
TEXT ·cpuRelax(SB), NOSPLIT|NOFRAME, $0-0
	PAUSE
	PAUSE
	RET
