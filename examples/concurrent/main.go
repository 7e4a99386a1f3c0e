// Command concurrent trains a model in one goroutine while another serves
// predictions from it, the way a Go service retrains in the background.
//
// The predicting goroutine must not run the tensors being trained: an
// optimizer step changes them mid-forward, and a NoGrad scope over them
// (nn.NoGrad is scoped to a model's parameters) would stop the trainer's
// steps from recording while it is open. So it predicts with its own copy
// of the network, frozen with nn.Freeze, whose forward records no graph by
// construction. The trainer publishes a snapshot of its state dict every
// few steps (nn.StateDictFile copies the values); the predictor loads the
// newest one between requests. Nothing is shared but immutable snapshots,
// so the program is race-free (go test -race).
//
//	go run ./examples/concurrent
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"sync"
	"sync/atomic"

	"github.com/shenml/shen/model/safetensors"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// NewNet is the architecture both goroutines build: an MLP for y = sin(x).
func NewNet() *nn.Sequential {
	return nn.NewSequential(nn.NewLinear(1, 32), nn.Tanh{}, nn.NewLinear(32, 32), nn.Tanh{}, nn.NewLinear(32, 1))
}

// Report is what the predictor saw.
type Report struct {
	// MSE holds the predictor's error on its queries after each snapshot
	// it loaded, oldest first.
	MSE []float64
	// Final holds its answers to the queries with the last snapshot.
	Final []float32
}

// Run trains for steps Adam steps, publishing a snapshot every publish
// steps, while a second goroutine answers queries with the newest
// snapshot. It returns the predictor's report and the trained network.
func Run(steps, publish int, seed uint64) (Report, *nn.Sequential, error) {
	nn.SetSeed(seed)
	net := NewNet()
	opt, err := optim.NewAdam(nn.Parameters(net), optim.AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return Report{}, nil, err
	}
	queries, truth := grid(64)
	var latest atomic.Pointer[safetensors.File]
	updated := make(chan struct{}, 1) // wakes the predictor; a pending wake-up is enough
	snapshot := func() error {
		f, err := nn.StateDictFile(net) // a copy: training goes on changing net
		if err == nil {
			latest.Store(f)
			select {
			case updated <- struct{}{}:
			default:
			}
		}
		return err
	}
	if err := snapshot(); err != nil {
		return Report{}, nil, err
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var rep Report
	var predErr error
	wg.Add(1)
	go func() { // the predictor
		defer wg.Done()
		pred := NewNet()
		nn.Freeze(pred) // forward records nothing: no NoGrad needed
		nn.Train(pred, false)
		var seen *safetensors.File
		serve := func() bool {
			f := latest.Load()
			if f == seen {
				return true
			}
			seen = f
			if _, err := nn.LoadStateDictFrom(pred, f, true); err != nil {
				predErr = err
				return false
			}
			out := pred.Forward(queries)
			rep.MSE = append(rep.MSE, mse(out.Data(), truth))
			rep.Final = append(rep.Final[:0], out.Data()...)
			out.Release()
			return true
		}
		for {
			select {
			case <-done:
				serve() // the last snapshot
				return
			case <-updated: // in a service: or a request to answer
				if !serve() {
					return
				}
			}
		}
	}()

	// The trainer, on this goroutine.
	g := tensor.NewRNG(seed + 1)
	for step := 1; step <= steps; step++ {
		x := tensor.RandU(g, -3, 3, 64, 1)
		y := sinOf(x)
		loss := nn.MSELoss(net.Forward(x), y, nn.ReduceMean)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		loss.FreeGraph()
		if step%publish == 0 || step == steps {
			if err := snapshot(); err != nil {
				close(done)
				wg.Wait()
				return rep, net, err
			}
		}
	}
	close(done)
	wg.Wait()
	return rep, net, predErr
}

// grid returns n query points in [-3, 3] as [n, 1] and sin of each.
func grid(n int) (*tensor.Tensor, []float32) {
	x := make([]float32, n)
	y := make([]float32, n)
	for i := range x {
		x[i] = -3 + 6*float32(i)/float32(n-1)
		y[i] = float32(math.Sin(float64(x[i])))
	}
	return tensor.FromSlice(x, n, 1), y
}

func sinOf(x *tensor.Tensor) *tensor.Tensor {
	d := x.Data()
	y := make([]float32, len(d))
	for i, v := range d {
		y[i] = float32(math.Sin(float64(v)))
	}
	return tensor.FromSlice(y, x.Shape()...)
}

func mse(got, want []float32) float64 {
	var s float64
	for i, v := range got {
		d := float64(v - want[i])
		s += d * d
	}
	return s / float64(len(got))
}

func main() {
	steps := flag.Int("steps", 2000, "training steps")
	publish := flag.Int("publish", 100, "publish a snapshot every N steps")
	flag.Parse()
	rep, _, err := Run(*steps, *publish, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("the predictor loaded %d snapshots; its MSE went from %.4f to %.5f\n", len(rep.MSE), rep.MSE[0], rep.MSE[len(rep.MSE)-1])
}
