package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
)

// TestTrainSaveLoadServe trains the custom model, saves it as an artifact,
// loads it back by its registered name and serves the test rows over HTTP
// on 127.0.0.1.
func TestTrainSaveLoadServe(t *testing.T) {
	path := findData()
	if _, err := os.Stat(path); err != nil {
		t.Skip("breast cancer table not found at " + path)
	}
	train, test, labels, err := LoadCancer(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(train, labels, 15)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := loaded.Net.(*Net); !ok || loaded.Spec.Architecture.Kind != Kind {
		t.Fatalf("loaded %T (%s), want the registered *Net", loaded.Net, loaded.Spec.Architecture.Kind)
	}
	srv := httptest.NewServer(Handler(loaded))
	defer srv.Close()

	in := test.XShape[0]
	req := Request{}
	for i := range test.Len() {
		req.Instances = append(req.Instances, test.X[i*in:(i+1)*in])
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post(srv.URL+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Predictions []Prediction }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	correct := 0
	for i, p := range got.Predictions {
		if p.Label == labels[test.Y[i]] {
			correct++
		}
	}
	if acc := float64(correct) / float64(test.Len()); acc < 0.9 {
		t.Fatalf("served accuracy %.3f on %d held-out rows, want ≥ 0.9", acc, test.Len())
	}
	// Bad input is a 400 that says what is wrong.
	resp2, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"instances": [[1, 2]]}`))
	if err != nil {
		t.Fatal(err)
	}
	var msg bytes.Buffer
	msg.ReadFrom(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 400 || !strings.Contains(msg.String(), "takes 30") {
		t.Fatalf("short row: status %d %q, want 400 naming the width", resp2.StatusCode, msg.String())
	}
}

// FuzzPredict: any request body gets a JSON answer or a 400, never a
// panic or a 500.
func FuzzPredict(f *testing.F) {
	arch, err := model.Custom(Kind, []int{3}, 2, Config{In: 3, Hidden: 4, Classes: 2})
	if err != nil {
		f.Fatal(err)
	}
	net, err := model.Build(arch)
	if err != nil {
		f.Fatal(err)
	}
	h := Handler(&model.Model{Spec: model.Spec{Task: "classification", Architecture: arch, Labels: []string{"a", "b"}}, Net: net})
	for _, seed := range []string{`{"instances": [[1, 2, 3]]}`, `{"instances": []}`, `{"instances": [[1e39, 0, 0]]}`,
		`{"instances": [[1, 2]]}`, `{"x": 1}`, `[`, ``, `{"instances": [[null, 1, 2]]}`, `{"instances": [[3e38, -3e38, 3e38]]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/predict", bytes.NewReader(body)))
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("body %q: status %d %s", body, rec.Code, rec.Body.String())
		}
	})
}
