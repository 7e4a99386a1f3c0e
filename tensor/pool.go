package tensor

import (
	"sync"
	"sync/atomic"
)

// storage is the buffer behind one or more tensors. Views share a storage;
// releasing it to the pool is idempotent and nils data, so a tensor used
// after its graph was freed fails loudly instead of reading another
// tensor's numbers.
type storage struct {
	data   []float32
	pooled bool // data came from the pool and may go back to it

	// pinned marks the buffer of a leaf that requires gradients (a
	// parameter, or an input being differentiated): it belongs to the
	// user and is never released.
	pinned bool
	// escaped marks a buffer that a Detach view shares: the view may
	// outlive the graph (the truncated-BPTT state), so FreeGraph and
	// Release leave the buffer to the garbage collector instead of the
	// pool.
	escaped bool
	// freedBy says what released data to the pool, so a later use names it.
	freedBy freer
	// named is set once SetName gave the buffer a name (kept in names,
	// off the struct, so that a storage stays 32 bytes: one is allocated
	// per op output).
	named atomic.Bool
}

// freer is what released a buffer.
type freer uint8

const (
	notFreed freer = iota
	freedByRelease
	freedByFreeGraph
)

func (f freer) String() string { return [...]string{"nothing", "Release", "FreeGraph"}[f] }

// names holds the names SetName gave parameter buffers, keyed weakly so a
// dropped model's entries go with it.
var names sync.Map // weak.Pointer[storage] -> string

// bufferPool recycles float32 buffers by exact length: a fixed model asks
// for the same sizes every step, so exact-size free lists hit every time and
// never hand out more memory than asked for. It is process-wide on purpose
// (like sync.Pool) so that tensors made on any goroutine share it; it holds
// only buffers nobody references.
type bufferPool struct {
	mu    sync.Mutex
	free  map[int][][]float32
	bytes int64 // bytes held in free lists
}

// maxPoolBytes bounds what the pool keeps; beyond it released buffers are
// left to the garbage collector.
const maxPoolBytes = 2 << 30

var pool = bufferPool{free: map[int][][]float32{}}

// get returns a buffer of length n, zeroed when zero is set.
func (p *bufferPool) get(n int, zero bool) []float32 {
	if n == 0 {
		return nil
	}
	p.mu.Lock()
	list := p.free[n]
	if k := len(list); k > 0 {
		buf := list[k-1]
		list[k-1] = nil
		p.free[n] = list[:k-1]
		p.bytes -= int64(n) * 4
		p.mu.Unlock()
		if zero {
			clear(buf)
		}
		return buf
	}
	p.mu.Unlock()
	return make([]float32, n)
}

// put hands buf back for reuse.
func (p *bufferPool) put(buf []float32) {
	n := len(buf)
	if n == 0 {
		return
	}
	p.mu.Lock()
	if p.bytes+int64(n)*4 <= maxPoolBytes {
		p.free[n] = append(p.free[n], buf[:n:n])
		p.bytes += int64(n) * 4
	}
	p.mu.Unlock()
}

// newStorage takes a pooled buffer of n elements.
func newStorage(n int, zero bool) *storage {
	return &storage{data: pool.get(n, zero), pooled: true}
}

// release returns the storage's buffer to the pool once, recording by
// whom; later calls do nothing. Pinned and escaped buffers are kept.
func (s *storage) release(by freer) {
	if s == nil || s.data == nil || !s.pooled || s.pinned || s.escaped {
		return
	}
	pool.put(s.data)
	s.data = nil
	s.freedBy = by
}
