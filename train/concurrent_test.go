package train

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestFitsAtOnce runs four fits at once in one process, as shen tune's
// parallel trials do, and checks each ends with exactly the weights it
// reaches alone: one run's validation or backward pass must not change
// whether another run's ops record gradients.
func TestFitsAtOnce(t *testing.T) {
	const n = 4
	alone := make([]map[string][]float32, n)
	for i := range n {
		o := setupNet(t, uint64(i+1), "", i%2 == 1)
		o.Epochs = 10
		if _, err := Fit(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		alone[i] = weights(o.Model)
	}
	opts := make([]FitOptions, n)
	for i := range n {
		opts[i] = setupNet(t, uint64(i+1), "", i%2 == 1)
		opts[i].Epochs = 10
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic: %v", r)
				}
			}()
			_, errs[i] = Fit(context.Background(), opts[i])
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("fit %d: %v", i, errs[i])
		}
		sameBits(t, alone[i], weights(opts[i].Model))
	}
}
