package kernel

import "unsafe"

// packTGo is the portable transposing pack: dst[p*ldd+i] = alpha*src[i*lds+p]
// for i < rows and p < kc, and dst[p*ldd+i] = 0 for rows <= i < width (the
// zero padding of an edge panel). Four source rows are walked together so
// each K step writes four adjacent floats; unsafe indexing keeps bounds
// checks out of the loop (the slice bounds are checked once up front).
func packTGo(dst []float32, ldd, width int, src []float32, lds, rows, kc int, alpha float32) {
	if kc == 0 {
		return
	}
	_ = dst[(kc-1)*ldd+width-1]
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	if rows > 0 {
		_ = src[(rows-1)*lds+kc-1]
		sp := unsafe.Pointer(unsafe.SliceData(src))
		at := func(base unsafe.Pointer, i int) *float32 { return (*float32)(unsafe.Add(base, 4*i)) }
		i := 0
		for ; i+4 <= rows; i += 4 {
			s0 := unsafe.Add(sp, 4*i*lds)
			s1 := unsafe.Add(s0, 4*lds)
			s2 := unsafe.Add(s1, 4*lds)
			s3 := unsafe.Add(s2, 4*lds)
			d := unsafe.Add(dp, 4*i)
			if alpha == 1 {
				for p := 0; p < kc; p++ {
					dd := (*[4]float32)(unsafe.Add(d, 4*p*ldd))
					dd[0], dd[1], dd[2], dd[3] = *at(s0, p), *at(s1, p), *at(s2, p), *at(s3, p)
				}
			} else {
				for p := 0; p < kc; p++ {
					dd := (*[4]float32)(unsafe.Add(d, 4*p*ldd))
					dd[0], dd[1], dd[2], dd[3] = alpha**at(s0, p), alpha**at(s1, p), alpha**at(s2, p), alpha**at(s3, p)
				}
			}
		}
		for ; i < rows; i++ {
			s0 := unsafe.Add(sp, 4*i*lds)
			d := unsafe.Add(dp, 4*i)
			for p := 0; p < kc; p++ {
				*(*float32)(unsafe.Add(d, 4*p*ldd)) = alpha * *at(s0, p)
			}
		}
	}
	if rows < width {
		for p := 0; p < kc; p++ {
			clear(dst[p*ldd+rows : p*ldd+width])
		}
	}
}
