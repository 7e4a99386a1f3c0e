package kernel

// freeList is a bounded free list of reusable values (a GEMM's context and
// packing buffers, scratch matrices): steady-state calls take one back
// instead of allocating. It never blocks: take reports false when none is
// free, and put drops the value when the list is full (the garbage
// collector has it then).
type freeList[T any] chan T

// take returns a recycled value, or the zero value and false.
func (f freeList[T]) take() (T, bool) {
	select {
	case v := <-f:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

// put hands v back for reuse, unless the list is full.
func (f freeList[T]) put(v T) {
	select {
	case f <- v:
	default:
	}
}
