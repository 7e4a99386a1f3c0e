package train

import (
	"sync"

	"github.com/shenml/shen/tensor"
)

// Runs at once in one process (shen tune's parallel trials) and
// tensor's gradient switch.
//
// Whether ops record the autograd graph is process-wide in package tensor
// (tensor.NoGrad, and Backward, which turns recording off while it runs):
// one run's validation or backward pass would silently stop another run's
// forward pass from recording. So this package's code that records (a
// training step's forward and loss) and its code that runs with recording
// off (backward, validation, the output-shape probe, the threshold
// choice) take gradPhase in two different phases: any number of runs may
// record at once, or run without recording at once, never both. A lone
// run never waits.

// Phases of gradPhase.
const (
	phaseRecording = 0
	phaseNoGrad    = 1
)

var gradPhase = newPhaseLock()

// phaseLock is held by any number of goroutines in one of two phases,
// never in both phases at once. A goroutine waiting for the other phase
// stops new entries to the current one, so neither phase starves.
type phaseLock struct {
	mu      sync.Mutex
	cond    *sync.Cond
	holders [2]int
	waiting [2]int
	turn    int // the phase served first when both wait
}

func newPhaseLock() *phaseLock {
	l := &phaseLock{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// do runs fn holding the lock in phase p.
func (l *phaseLock) do(p int, fn func()) {
	o := 1 - p
	l.mu.Lock()
	l.waiting[p]++
	for l.holders[o] > 0 || l.waiting[o] > 0 && l.turn == o && l.holders[p] == 0 {
		l.cond.Wait()
	}
	l.waiting[p]--
	l.holders[p]++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.holders[p]--
		if l.holders[p] == 0 {
			l.turn = o
			l.cond.Broadcast()
		}
		l.mu.Unlock()
	}()
	fn()
}

// noGrad is tensor.NoGrad in the no-recording phase.
func noGrad(fn func()) { gradPhase.do(phaseNoGrad, func() { tensor.NoGrad(fn) }) }
