package serve

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for base64 images
	_ "image/png"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/predict"
)

// v1Request is a KServe V1 / TensorFlow Serving predict request.
type v1Request struct {
	Instances []json.RawMessage `json:"instances"`
}

// v1Prediction is one instance's answer.
type v1Prediction struct {
	Label         string             `json:"label,omitempty"`
	Class         *int               `json:"class,omitempty"`
	Probabilities map[string]float32 `json:"probabilities,omitempty"`
	Value         *float32           `json:"value,omitempty"`
	Values        []float32          `json:"values,omitempty"`
	Text          string             `json:"text,omitempty"`
	Input         string             `json:"input,omitempty"`
	Row           *int               `json:"row,omitempty"` // window models: the input row the answer is for
	Notes         []predict.Note     `json:"notes,omitempty"`
}

// v1Prompt is a language model instance: a prompt and how to continue it.
type v1Prompt struct {
	Prompt      string  `json:"prompt"`
	Length      *int    `json:"length"`
	Temperature float64 `json:"temperature"`
	Seed        uint64  `json:"seed"`
}

// DefaultGenerateLength is how many tokens a V1 prompt gets when it does
// not say.
const DefaultGenerateLength = 100

// modelStatusV1 serves GET /v1/models/{model}: KServe V1's model status.
func (s *Server) modelStatusV1(w http.ResponseWriter, r *http.Request) {
	s.writeReadiness(w, r.PathValue("model"), "")
}

// predictV1 serves POST /v1/models/{model}:predict. Instances are raw
// inputs that go through the artifact's fitted preprocessing: records of
// named features (table models), time-ordered records (window models,
// one answer per window), base64 images as a string or {"b64": ...}
// (image models), prompts as a string or {"prompt", "length",
// "temperature", "seed"} (language models), or arrays of numbers (models
// without preprocessing). Rows go through the model version's batcher.
func (s *Server) predictV1(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	inflight := s.metrics.inFlight.WithLabelValues(protoV1HTTP.String())
	inflight.Inc()
	defer inflight.Dec()
	call := r.PathValue("call")
	i := strings.LastIndexByte(call, ':')
	if i < 0 || call[i+1:] != "predict" {
		writeError(w, reasonNotFound, fmt.Errorf("unknown V1 call %q; the V1 API has /v1/models/<model>:predict", call))
		return
	}
	name := call[:i]
	body, err := readBody(r)
	if err != nil {
		s.httpFail(w, protoV1HTTP, name, "", err)
		return
	}
	defer buffers.Put(body)
	var req v1Request
	if err := json.Unmarshal(body.Bytes(), &req); err != nil {
		s.httpFail(w, protoV1HTTP, name, "", fail(reasonBadRequest, fmt.Errorf("request JSON: %w", err)))
		return
	}
	if len(req.Instances) == 0 {
		s.httpFail(w, protoV1HTTP, name, "", fail(reasonBadRequest, errors.New(`the request has no "instances"`)))
		return
	}
	v, err := s.repo.lookup(name, "")
	if err != nil {
		s.httpFail(w, protoV1HTTP, name, "", err)
		return
	}
	defer v.release()
	preds, err := s.runV1(r, v, req.Instances, start)
	if err != nil {
		v.failed(time.Since(start))
		s.httpFail(w, protoV1HTTP, name, v.label, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_name": v.model, "model_version": v.label, "predictions": preds})
}

// runV1 prepares the instances for the model's kind, runs them through
// the batcher and answers.
func (s *Server) runV1(r *http.Request, v *version, instances []json.RawMessage, start time.Time) ([]v1Prediction, error) {
	p := v.pred
	switch p.Kind() {
	case predict.Text:
		return s.generateV1(v, instances)
	case predict.Window:
		return s.windowsV1(r, v, instances, start)
	}
	var (
		x       []float32
		notes   [][]predict.Note
		records []map[string]any
		err     error
	)
	n := len(instances)
	switch p.Kind() {
	case predict.Table:
		records = make([]map[string]any, n)
		for i, raw := range instances {
			if err := json.Unmarshal(raw, &records[i]); err != nil || records[i] == nil {
				return nil, fail(reasonBadRequest, fmt.Errorf("instance %d is not a record of named features: %s", i, excerpt(raw)))
			}
		}
		x, notes, err = p.PrepareRecords(records)
	case predict.Image:
		var imgs []image.Image
		if imgs, err = decodeImages(instances); err == nil {
			x, err = p.PrepareImages(imgs)
		}
	case predict.Tensor:
		x = make([]float32, n*p.InputSize())
		for i, raw := range instances {
			if err = decodeJSONNumbers(fmt.Sprintf("instances[%d]", i), raw, dtFP64, x[i*p.InputSize():(i+1)*p.InputSize()]); err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("model %q takes %s, which V1 instances do not carry; use `shen predict`", v.model, p.Kind())
	}
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	j := getJob(n, p.InputSize(), p.Outputs())
	defer putJob(j)
	copy(j.x, x)
	if err := v.batch.run(r.Context(), j); err != nil {
		return nil, err
	}
	res := p.Answer(j.out, n)
	res.Notes = notes
	v.metrics.observe(protoV1HTTP, j, time.Since(start))
	v.succeeded(j, time.Since(start))
	if s.observer != nil {
		ob := &Observation{Model: v.model, Version: v.label, RequestID: RequestID(r.Context()), Protocol: protoV1HTTP.String(),
			Time: time.Now(), Latency: time.Since(start), Records: records, Result: res}
		if records == nil {
			ob.Inputs, ob.Width = x, p.InputSize()
		}
		s.observer.offer(ob)
	}
	return v1Predictions(res), nil
}

// v1Predictions turns a Result into one prediction per row.
func v1Predictions(res *predict.Result) []v1Prediction {
	preds := make([]v1Prediction, res.N)
	for i := range preds {
		pr := &preds[i]
		if res.Classes != nil {
			k := len(res.Classes)
			pr.Label = res.Label(i)
			pr.Class = &res.Class[i]
			pr.Probabilities = make(map[string]float32, k)
			for c, name := range res.Classes {
				pr.Probabilities[name] = res.Probs[i*k+c]
			}
		} else if res.Outputs == 1 {
			pr.Value = &res.Values[i]
		} else {
			pr.Values = res.Values[i*res.Outputs : (i+1)*res.Outputs]
		}
		if i < len(res.Notes) {
			pr.Notes = res.Notes[i]
		}
		if i < len(res.Inputs) {
			pr.Input = res.Inputs[i]
		}
	}
	return preds
}

// decodeImages reads base64 images: a string, or {"b64": "..."} as
// TensorFlow Serving sends binary values.
func decodeImages(instances []json.RawMessage) ([]image.Image, error) {
	imgs := make([]image.Image, len(instances))
	for i, raw := range instances {
		var b64 string
		if err := json.Unmarshal(raw, &b64); err != nil {
			var obj struct {
				B64 string `json:"b64"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || obj.B64 == "" {
				return nil, fmt.Errorf("instance %d is not a base64 image (a string or {\"b64\": ...}): %s", i, excerpt(raw))
			}
			b64 = obj.B64
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("instance %d: base64: %w", i, err)
		}
		// DecodeImage reads the header first: an image declaring more
		// pixels than data.MaxImagePixels is refused before decoding.
		img, err := data.DecodeImage(b, fmt.Sprintf("instance %d", i))
		if err != nil {
			return nil, err
		}
		imgs[i] = img
	}
	return imgs, nil
}

// generateV1 continues each prompt with the language model.
func (s *Server) generateV1(v *version, instances []json.RawMessage) ([]v1Prediction, error) {
	preds := make([]v1Prediction, len(instances))
	for i, raw := range instances {
		var pr v1Prompt
		if err := json.Unmarshal(raw, &pr.Prompt); err != nil {
			if err := json.Unmarshal(raw, &pr); err != nil {
				return nil, fail(reasonBadRequest, fmt.Errorf("instance %d is not a prompt (a string or {\"prompt\": ...}): %s", i, excerpt(raw)))
			}
		}
		length := DefaultGenerateLength
		if pr.Length != nil {
			length = *pr.Length
		}
		text, err := v.pred.Generate(pr.Prompt, length, pr.Temperature, pr.Seed)
		if err != nil {
			return nil, fail(reasonBadRequest, fmt.Errorf("instance %d: %w", i, err))
		}
		preds[i].Text = text
	}
	return preds, nil
}

// excerpt quotes the start of a raw instance for an error message.
func excerpt(raw []byte) string {
	if len(raw) > 60 {
		return string(raw[:60]) + "..."
	}
	return string(raw)
}

// windowsV1 answers a window model: the instances are time-ordered rows
// (records), cut into windows as in training; one prediction per window,
// its "row" the input row it is for. Windows are cut per request, so they
// run as one Forward of their own, not through the batcher.
func (s *Server) windowsV1(r *http.Request, v *version, instances []json.RawMessage, start time.Time) ([]v1Prediction, error) {
	records := make([]map[string]any, len(instances))
	for i, raw := range instances {
		if err := json.Unmarshal(raw, &records[i]); err != nil || records[i] == nil {
			return nil, fail(reasonBadRequest, fmt.Errorf("instance %d is not a record of named fields: %s", i, excerpt(raw)))
		}
	}
	f, err := recordsToFrame(records)
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	res, err := v.pred.Frame(f, "")
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	v.metrics.counts[protoV1HTTP].Inc()
	v.metrics.latency[protoV1HTTP].Observe(time.Since(start).Seconds())
	v.stats.success.add(time.Since(start))
	v.stats.inferences.Add(int64(res.N))
	v.stats.last.Store(time.Now().UnixMilli())
	if s.observer != nil {
		s.observer.offer(&Observation{Model: v.model, Version: v.label, RequestID: RequestID(r.Context()), Protocol: protoV1HTTP.String(),
			Time: time.Now(), Latency: time.Since(start), Records: records, Result: res})
	}
	preds := v1Predictions(res)
	for i := range preds {
		if i < len(res.Rows) {
			preds[i].Row = &res.Rows[i]
		}
	}
	return preds, nil
}

// recordsToFrame makes a table of time-ordered records: a field whose
// values are all numbers (or missing) is a numeric column, any other a
// categorical one.
func recordsToFrame(records []map[string]any) (*data.Frame, error) {
	var names []string
	seen := map[string]bool{}
	for _, r := range records {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	f := &data.Frame{Source: "request"}
	for _, name := range names {
		numeric := true
		for _, r := range records {
			switch r[name].(type) {
			case float64, nil:
			default:
				numeric = false
			}
		}
		if numeric {
			col := make([]float64, len(records))
			for i, r := range records {
				col[i] = math.NaN()
				if x, ok := r[name].(float64); ok {
					col[i] = x
				}
			}
			if err := f.AddNumeric(name, col); err != nil {
				return nil, err
			}
			continue
		}
		col := make([]string, len(records))
		for i, r := range records {
			if r[name] != nil {
				col[i] = fmt.Sprint(r[name])
			}
		}
		if err := f.AddCategorical(name, col); err != nil {
			return nil, err
		}
	}
	return f, nil
}
