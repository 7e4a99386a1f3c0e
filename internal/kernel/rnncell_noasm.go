//go:build !amd64 || noasm

package kernel

func lstmBackwardVec(*LSTMGrad, int) int { return 0 }

func gruBackwardVec(*GRUGrad, int) int { return 0 }
