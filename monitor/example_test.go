package monitor_test

import (
	"fmt"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/monitor"
)

// Compare a batch of records with a training profile, as a live window
// of those rows would be.
func ExampleReference_CompareRecords() {
	train := &data.Frame{}
	sizes := make([]float64, 1000)
	for i := range sizes {
		sizes[i] = float64(i%100) / 10 // 0 to 9.9, evenly
	}
	train.AddNumeric("size", sizes)
	ref, err := monitor.NewReference(model.Spec{Name: "demo"}, data.NewProfile(train, 10))
	if err != nil {
		panic(err)
	}
	var recs []map[string]any
	for i := range 200 {
		recs = append(recs, map[string]any{"size": 5 + float64(i%50)/10}) // 5 to 9.9: the upper half only
	}
	c := ref.CompareRecords(recs, monitor.DefaultConfig().Drift)
	f := c.Features[0]
	fmt.Printf("%s: %s D=%.1f drifted=%v\n", f.Feature, f.Method, f.Statistic, f.Drifted)
	// Output: size: ks D=0.5 drifted=true
}
