package monitor

import (
	"time"

	"github.com/shenml/shen/predict"
)

// ObservationOf is the observation of one answered request: the raw
// records (table models, when the request carried them) or the prepared
// rows (image and tensor models), and the answer r.
func ObservationOf(requestID string, t time.Time, records []map[string]any, inputs []float32, r *predict.Result) Observation {
	o := Observation{RequestID: requestID, Time: t, Records: records, Inputs: inputs}
	if r != nil {
		o.Rows, o.Values, o.Outputs = r.N, r.Values, r.Outputs
		if r.Classes != nil {
			o.Class = r.Class
		}
	}
	return o
}
