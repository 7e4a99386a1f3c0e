package monitor

import "time"

// window holds the most recent observed rows, encoded (Reference.Width
// slots each), in a ring of fixed capacity: a count window of the last
// size rows, narrowed at evaluation to those younger than period when a
// period is set. Adding a row copies it into the ring: no allocation.
type window struct {
	width int
	rows  []float64   // cap × width
	times []time.Time // when each row was observed
	next  int         // ring position of the next row
	n     int         // rows held, up to cap
}

func newWindow(capacity, width int) *window {
	return &window{width: width, rows: make([]float64, capacity*width), times: make([]time.Time, capacity)}
}

// slot returns the storage for the next row, evicting the oldest when
// full; the caller fills it.
func (w *window) slot(t time.Time) []float64 {
	i := w.next
	w.times[i] = t
	w.next = (w.next + 1) % len(w.times)
	w.n = min(w.n+1, len(w.times))
	return w.rows[i*w.width : (i+1)*w.width]
}

// each calls fn for every held row observed at or after since (all when
// since is zero), oldest first, and returns how many it visited.
func (w *window) each(since time.Time, fn func(row []float64)) int {
	c := len(w.times)
	start := (w.next - w.n + c) % c
	k := 0
	for j := range w.n {
		i := (start + j) % c
		if !since.IsZero() && w.times[i].Before(since) {
			continue
		}
		fn(w.rows[i*w.width : (i+1)*w.width])
		k++
	}
	return k
}
