package tensor

// walkRows visits every position of shape except along the last dimension,
// calling fn with each operand's element offset at the start of that row.
// Operand k's elements along the row are offs[k] + i*strides[k][last].
// A 0-d shape is one row of one element. fn must not keep offs.
func walkRows(shape []int, strides [][]int, base []int, fn func(offs []int)) {
	nd := len(shape)
	offs := make([]int, len(strides))
	copy(offs, base)
	if nd <= 1 {
		fn(offs)
		return
	}
	for _, d := range shape {
		if d == 0 {
			return
		}
	}
	idx := make([]int, nd-1)
	for {
		fn(offs)
		// Advance the index over dims [0, nd-1) like an odometer.
		d := nd - 2
		for ; d >= 0; d-- {
			idx[d]++
			for k := range offs {
				offs[k] += strides[k][d]
			}
			if idx[d] < shape[d] {
				break
			}
			for k := range offs {
				offs[k] -= strides[k][d] * shape[d]
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// rowLen is the length and stride of the innermost dimension for walkRows.
func rowLen(shape []int) int {
	if len(shape) == 0 {
		return 1
	}
	return shape[len(shape)-1]
}

func lastStride(strides []int) int {
	if len(strides) == 0 {
		return 0
	}
	return strides[len(strides)-1]
}

// copyInto writes src's elements into dst (same shape; dst may be strided).
func copyInto(dst, src *Tensor) {
	if !SameShape(dst.shape, src.shape) {
		shapePanic("copy", "shapes must match", dst.shape, src.shape)
	}
	src.live("a copy")
	if dst.IsContiguous() && src.IsContiguous() {
		copy(dst.st.data[dst.offset:dst.offset+dst.Numel()], src.st.data[src.offset:src.offset+src.Numel()])
		return
	}
	n := rowLen(dst.shape)
	sd, ss := lastStride(dst.strides), lastStride(src.strides)
	dd, sdata := dst.st.data, src.st.data
	walkRows(dst.shape, [][]int{dst.strides, src.strides}, []int{dst.offset, src.offset}, func(o []int) {
		if sd == 1 && ss == 1 {
			copy(dd[o[0]:o[0]+n], sdata[o[1]:o[1]+n])
			return
		}
		for i := 0; i < n; i++ {
			dd[o[0]+i*sd] = sdata[o[1]+i*ss]
		}
	})
}
