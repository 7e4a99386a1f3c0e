package tensor

import (
	"fmt"
	"slices"
)

// ShapeError reports operands whose shapes do not fit an op.
type ShapeError struct {
	Op     string
	Shapes [][]int
	Reason string
}

func (e *ShapeError) Error() string {
	s := "tensor: " + e.Op + ": "
	for i, sh := range e.Shapes {
		if i > 0 {
			s += " and "
		}
		s += fmt.Sprint(sh)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

func shapePanic(op, reason string, shapes ...[]int) {
	cp := make([][]int, len(shapes))
	for i, s := range shapes {
		cp[i] = slices.Clone(s)
	}
	panic(&ShapeError{Op: op, Shapes: cp, Reason: reason})
}

// BroadcastShapes returns the NumPy broadcast of shapes a and b, or
// panics with a *ShapeError naming both.
func BroadcastShapes(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			shapePanic(op, fmt.Sprintf("dimension %d (%d vs %d) cannot broadcast", i-n, da, db), a, b)
		}
	}
	return out
}

// broadcastStrides returns t's strides aligned to shape (which t broadcasts
// to), with stride 0 on broadcast dimensions.
func broadcastStrides(t *Tensor, shape []int) []int {
	st := make([]int, len(shape))
	off := len(shape) - len(t.shape)
	for i := range t.shape {
		if t.shape[i] != 1 {
			st[off+i] = t.strides[i]
		}
	}
	return st
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }
