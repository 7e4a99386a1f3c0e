package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/serve/inference"
)

// TestV2RawColumns sends a table model its raw columns as V2 tensors (one
// per signature input), over JSON, binary and gRPC: the answers are
// predict.Records' on the same rows, and the observer gets the records.
func TestV2RawColumns(t *testing.T) {
	dir := trainedIris(t)
	obs := make(chanObserver, 8)
	ts := startServer(t, Options{Model: dir, ModelName: "iris", Observer: obs})
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{{"f0": 5.1, "f1": 3.5, "f2": 1.4, "f3": 0.2}, {"f0": 6.7, "f1": 3.0, "f2": 5.2, "f3": 2.3}}
	want, err := p.Records(rows)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) string {
		return fmt.Sprintf(`{"name":%q,"shape":[2],"datatype":"FP64","data":[%v,%v]}`, name, rows[0][name], rows[1][name])
	}
	body := `{"inputs":[` + col("f0") + `,` + col("f1") + `,` + col("f2") + `,` + col("f3") + `],"outputs":[{"name":"probabilities"},{"name":"label"}]}`
	status, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", body, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	outs := resp["outputs"].([]any)
	if got := floatsOf(t, outs[0].(map[string]any)["data"]); !near(got, want.Probs) {
		t.Errorf("probabilities %v, predict.Records gives %v", got, want.Probs)
	}
	if got := fmt.Sprint(outs[1].(map[string]any)["data"]); got != fmt.Sprintf("[%s %s]", want.Label(0), want.Label(1)) {
		t.Errorf("labels %s", got)
	}
	o := nextObservation(t, obs)
	if len(o.Records) != 2 || o.Records[1]["f2"] != 5.2 || o.Rows() != 2 {
		t.Errorf("observation of raw columns: %+v", o)
	}

	// Binary columns: FP32 little-endian, one chunk per column in order.
	var hdr strings.Builder
	var bin []byte
	hdr.WriteString(`{"inputs":[`)
	for i, name := range []string{"f0", "f1", "f2", "f3"} {
		if i > 0 {
			hdr.WriteString(",")
		}
		fmt.Fprintf(&hdr, `{"name":%q,"shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}`, name)
		bin = append(bin, le32([]float32{float32(rows[0][name].(float64)), float32(rows[1][name].(float64))})...)
	}
	hdr.WriteString(`],"outputs":[{"name":"probabilities"}]}`)
	b, h := binaryRequest(hdr.String(), bin)
	status, resp, _ = call(t, "POST", ts.url+"/v2/models/iris/infer", string(b), h)
	if status != 200 || !near(floatsOf(t, resp["outputs"].([]any)[0].(map[string]any)["data"]), want.Probs) {
		t.Errorf("binary columns: %d %v", status, resp)
	}

	// gRPC typed columns.
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	req := &inference.ModelInferRequest{ModelName: "iris", Outputs: []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "probabilities"}}}
	for _, name := range []string{"f0", "f1", "f2", "f3"} {
		req.Inputs = append(req.Inputs, &inference.ModelInferRequest_InferInputTensor{Name: name, Datatype: "FP64", Shape: []int64{2},
			Contents: &inference.InferTensorContents{Fp64Contents: []float64{rows[0][name].(float64), rows[1][name].(float64)}}})
	}
	r, err := c.ModelInfer(context.Background(), req)
	if err != nil || !near(r.Outputs[0].Contents.Fp32Contents, want.Probs) {
		t.Errorf("gRPC columns: %v %v", r, err)
	}

	bad := []struct{ body, says string }{
		{`{"inputs":[` + col("f0") + `,{"name":"zz","shape":[2],"datatype":"FP32","data":[1,2]}]}`, `input "zz" is neither`},
		{`{"inputs":[` + col("f0") + `,{"name":"f1","shape":[3],"datatype":"FP32","data":[1,2,3]}]}`, "columns must be the same length"},
		{`{"inputs":[{"name":"f0","shape":[2],"datatype":"BYTES","data":["a"]}]}`, "holds 1 elements; its shape says 2"},
		{`{"inputs":[{"name":"f0","shape":[200000000],"datatype":"FP32","data":[1]}]}`, "more elements than"},
	}
	for _, e := range bad {
		status, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", e.body, nil)
		if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, e.says) {
			t.Errorf("%s: %d %v, want 400 naming %q", e.body, status, resp, e.says)
		}
	}
}

// TestV2EncodedImages sends PNG bytes as a BYTES tensor (binary data and
// gRPC bytes_contents) to an image model.
func TestV2EncodedImages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "digits")
	m, err := model.New(model.Spec{Name: "digits", Task: "classification",
		Architecture: model.Architecture{Kind: "cnn", Input: []int{1, 8, 8}, Outputs: 3, Channels: []int{4}, Hidden: []int{8}},
		Labels:       []string{"a", "b", "c"}, Image: &model.ImageInput{Channels: 1, Height: 8, Width: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Options{Model: dir})
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 4)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	p, _ := predict.Load(dir)
	want, err := p.Images([]image.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	elem := binary.LittleEndian.AppendUint32(nil, uint32(buf.Len()))
	elem = append(elem, buf.Bytes()...)
	header := fmt.Sprintf(`{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":%d}}],"outputs":[{"name":"probabilities"}]}`, len(elem))
	b, h := binaryRequest(header, elem)
	status, resp, _ := call(t, "POST", ts.url+"/v2/models/digits/infer", string(b), h)
	if status != 200 || !near(floatsOf(t, resp["outputs"].([]any)[0].(map[string]any)["data"]), want.Probs) {
		t.Errorf("binary PNG: %d %v, predict.Images gives %v", status, resp, want.Probs)
	}
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	r, err := c.ModelInfer(context.Background(), &inference.ModelInferRequest{ModelName: "digits",
		Inputs:  []*inference.ModelInferRequest_InferInputTensor{{Name: "image", Datatype: "BYTES", Shape: []int64{1}, Contents: &inference.InferTensorContents{BytesContents: [][]byte{buf.Bytes()}}}},
		Outputs: []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}}})
	if err != nil || string(r.Outputs[0].Contents.BytesContents[0]) != want.Label(0) {
		t.Errorf("gRPC PNG: %v %v", r, err)
	}
	status, resp, _ = call(t, "POST", ts.url+"/v2/models/digits/infer", `{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["not a png"]}]}`, nil)
	if msg, _ := resp["error"].(string); status != 400 || !strings.Contains(msg, `input "image" element 0: image: unknown format`) {
		t.Errorf("not an image: %d %v", status, resp)
	}
}
