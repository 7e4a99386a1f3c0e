// Command serve trains a custom Go model, saves it as a Shen artifact and
// serves it over HTTP with net/http.
//
// The model is a struct of this program (standardisation buffers, a
// squeeze-and-excitation gate, two Linear layers). model.Register gives
// its constructor a name, so model.Save writes the architecture by name
// with its configuration as JSON, and model.Load rebuilds it in any
// program that registers the same name: this one, a server, a batch job.
//
//	go run ./examples/serve -train -out /tmp/cancer            # train, save the artifact
//	go run ./examples/serve -model /tmp/cancer -addr 127.0.0.1:8080
//	curl -d '{"instances": [[17.99, 10.38, ...30 values]]}' 127.0.0.1:8080/predict
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"os"
	"path/filepath"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/fit"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/optim"
	"github.com/shenml/shen/tensor"
)

// Kind is the name the architecture is registered under.
const Kind = "example_tabular_se"

func init() { model.Register(Kind, New) }

// Config is the architecture's configuration, stored in model.json.
type Config struct {
	In, Hidden, Classes int
}

// Net standardises its raw input with buffers fitted on the training
// set, so the artifact takes raw features, then classifies with a gated
// hidden layer.
type Net struct {
	Mean *tensor.Tensor `nn:"mean,buffer"`
	Std  *tensor.Tensor `nn:"std,buffer"`
	FC1  *nn.Linear
	Gate *nn.Linear
	FC2  *nn.Linear
}

// New builds a fresh Net; it is the registered constructor.
func New(c Config) (nn.Layer, error) {
	if c.In <= 0 || c.Hidden <= 0 || c.Classes < 2 {
		return nil, fmt.Errorf("config %+v: sizes must be positive and classes at least 2", c)
	}
	return &Net{Mean: tensor.Zeros(c.In), Std: tensor.Ones(c.In),
		FC1: nn.NewLinear(c.In, c.Hidden), Gate: nn.NewLinear(c.Hidden, c.Hidden), FC2: nn.NewLinear(c.Hidden, c.Classes)}, nil
}

// Members: the buffers and layers, from the struct's fields.
func (n *Net) Members() nn.Members { return nn.MembersOf(n) }

// Forward maps raw features [B, In] to logits [B, Classes].
func (n *Net) Forward(x *tensor.Tensor) *tensor.Tensor {
	x = tensor.Div(tensor.Sub(x, n.Mean), n.Std)
	h := tensor.ReLU(n.FC1.Forward(x))
	h = tensor.Mul(h, tensor.Sigmoid(n.Gate.Forward(h))) // squeeze-and-excitation style gate
	return n.FC2.Forward(h)
}

// LoadCancer reads scikit-learn's breast cancer table (a count line, then
// 30 features and the class per row) and splits it 80/20 in file order
// after a fixed shuffle.
func LoadCancer(path string) (train, test *data.ArrayDataset, labels []string, err error) {
	f, err := data.ReadCSV(path, data.CSVOptions{SkipLines: 1, NoHeader: true})
	if err != nil {
		return nil, nil, nil, err
	}
	x, w, err := f.Float32()
	if err != nil {
		return nil, nil, nil, err
	}
	in := w - 1
	n := len(x) / w
	feats, y := make([]float32, 0, n*in), make([]int64, n)
	order := tensor.NewRNG(7).Perm(n)
	for i, r := range order {
		row := x[r*w : (r+1)*w]
		feats = append(feats, row[:in]...)
		y[i] = int64(row[in])
	}
	cut := n * 4 / 5
	if train, err = data.NewArrayDataset(feats[:cut*in], []int{in}, y[:cut]); err != nil {
		return nil, nil, nil, err
	}
	test, err = data.NewArrayDataset(feats[cut*in:], []int{in}, y[cut:])
	return train, test, []string{"malignant", "benign"}, err
}

// Train fits a Net on the training set and returns the artifact's model.
func Train(train *data.ArrayDataset, labels []string, epochs int) (*model.Model, error) {
	nn.SetSeed(3)
	in := train.XShape[0]
	arch, err := model.Custom(Kind, []int{in}, len(labels), Config{In: in, Hidden: 32, Classes: len(labels)})
	if err != nil {
		return nil, err
	}
	layer, err := model.Build(arch)
	if err != nil {
		return nil, err
	}
	net := layer.(*Net)
	fitStandardisation(net, train)
	opt, err := optim.NewAdamW(nn.Parameters(net), optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2})
	if err != nil {
		return nil, err
	}
	if _, err := fit.Classifier(net, opt, train, fit.Options{Epochs: epochs, BatchSize: 32, Seed: 1}); err != nil {
		return nil, err
	}
	nn.Train(net, false)
	return &model.Model{Spec: model.Spec{Name: "cancer", Task: "classification", Architecture: arch, Labels: labels}, Net: net}, nil
}

// fitStandardisation sets the Mean and Std buffers to the training set's.
func fitStandardisation(n *Net, d *data.ArrayDataset) {
	in := d.XShape[0]
	mean, std := n.Mean.Data(), n.Std.Data()
	rows := d.Len()
	for j := range in {
		var s, ss float64
		for i := range rows {
			v := float64(d.X[i*in+j])
			s += v
			ss += v * v
		}
		m := s / float64(rows)
		mean[j] = float32(m)
		std[j] = float32(math.Sqrt(max(ss/float64(rows)-m*m, 1e-12)))
	}
}

// Request is the body of POST /predict: one row of raw features per instance.
type Request struct {
	Instances [][]float32 `json:"instances"`
}

// Prediction is one instance's answer.
type Prediction struct {
	Label         string    `json:"label"`
	Probabilities []float32 `json:"probabilities"`
}

// Handler serves POST /predict for a loaded model. A loaded model predicts
// without gradients (model.Predict) and may serve requests concurrently.
func Handler(m *model.Model) http.Handler {
	in := m.Spec.Architecture.Input[0]
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		var req Request
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(req.Instances) == 0 {
			http.Error(w, "no instances", http.StatusBadRequest)
			return
		}
		flat := make([]float32, 0, len(req.Instances)*in)
		for i, row := range req.Instances {
			if len(row) != in {
				http.Error(w, fmt.Sprintf("instance %d has %d features, the model takes %d", i, len(row), in), http.StatusBadRequest)
				return
			}
			flat = append(flat, row...)
		}
		probs := tensor.Softmax(m.Predict(tensor.FromSlice(flat, len(req.Instances), in)), -1)
		k := len(m.Spec.Labels)
		out := make([]Prediction, len(req.Instances))
		for i := range out {
			p := append([]float32(nil), probs.Data()[i*k:(i+1)*k]...)
			best := 0
			for c, v := range p {
				if v != v || math.IsInf(float64(v), 0) {
					http.Error(w, fmt.Sprintf("instance %d overflows the model (values far outside the training data?)", i), http.StatusBadRequest)
					return
				}
				if v > p[best] {
					best = c
				}
			}
			out[i] = Prediction{Label: m.Spec.Labels[best], Probabilities: p}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"predictions": out})
	})
	return mux
}

func main() {
	dataPath := flag.String("data", findData(), "scikit-learn breast cancer CSV")
	doTrain := flag.Bool("train", false, "train and save the artifact to -out")
	out := flag.String("out", "cancer-model", "artifact folder to write (-train)")
	dir := flag.String("model", "", "artifact folder to serve")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	epochs := flag.Int("epochs", 40, "training epochs")
	flag.Parse()
	switch {
	case *doTrain:
		train, test, labels, err := LoadCancer(*dataPath)
		if err != nil {
			log.Fatal(err)
		}
		m, err := Train(train, labels, *epochs)
		if err != nil {
			log.Fatal(err)
		}
		acc, err := fit.Accuracy(m.Net, test, nil)
		if err != nil {
			log.Fatal(err)
		}
		if err := m.Save(*out); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("test accuracy %.3f; artifact in %s\n", acc, *out)
	case *dir != "":
		m, err := model.Load(*dir)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("serving %s (%s) on http://%s/predict", *dir, m.Spec.Architecture.Kind, *addr)
		log.Fatal(http.ListenAndServe(*addr, Handler(m)))
	default:
		log.Fatal(errors.New("pass -train or -model DIR"))
	}
}

func findData() string {
	for _, d := range []string{"../shared", "../../shared", "../../../shared"} {
		p := filepath.Join(d, "data", "tabular", "sklearn_breast_cancer.csv")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "../shared/data/tabular/sklearn_breast_cancer.csv"
}
