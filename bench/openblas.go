//go:build openblas && cgo

// Package bench compares Shen's kernels with reference libraries. It is kept
// out of the default build (build tag openblas, needs cgo and
// libopenblas-dev) so that Shen itself stays pure Go; run it through
// bench/sgemm.sh.
package bench

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
*/
import "C"

import "unsafe"

// openblasSgemm calls cblas_sgemm on row-major slices.
func openblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func openblasThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

func openblasCore() string { return C.GoString(C.openblas_get_corename()) }
