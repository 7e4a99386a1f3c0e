package serve

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/nn"
	"github.com/shenml/shen/serve/inference"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestBusyModel: while one instance runs a long batch, a request's
// "timeout" parameter (HTTP) or deadline (gRPC) ends it on time with 504 /
// DEADLINE_EXCEEDED; then requests fill the queue and the next is refused
// at once with 429 / RESOURCE_EXHAUSTED; the queued ones are answered.
func TestBusyModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a second-long batch")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "wide", "1")
	nn.SetSeed(1)
	m, err := model.New(model.Spec{Name: "wide", Task: "regression",
		Architecture: model.Architecture{Kind: "mlp", Input: []int{1024}, Outputs: 1, Hidden: []int{2048, 2048}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "wide", "config.yaml"), "max_batch_size: 0\ndynamic_batching: {max_queue_size: 4}\n")
	ts := startServer(t, Options{ModelRepository: root})
	// A long batch: 4096 rows, about 52 GFLOP (seconds on two cores).
	const rows = 4096
	header := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,1024],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"outputs":[{"name":"value"}]}`, rows, rows*1024*4)
	long, hdr := binaryRequest(header, make([]byte, rows*1024*4))
	small := `{"inputs":[{"name":"input","shape":[1,1024],"datatype":"FP32","data":[` + strings.TrimSuffix(strings.Repeat("0,", 1024), ",") + `]}],"outputs":[{"name":"value"}]}`
	results := make(chan int, 3)
	go func() {
		st := time.Now()
		s, _, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", string(long), hdr)
		t.Logf("long request: %v", time.Since(st))
		results <- s
	}()
	v := ts.repo.current()["wide"].served()[0]
	waitFor(t, "the long batch to start", func() bool { return v.batch.inside.Load() == 1 && len(v.batch.queue) == 0 })
	time.Sleep(20 * time.Millisecond)

	start := time.Now()
	timed := strings.Replace(small, `{"inputs"`, `{"parameters":{"timeout":50000},"inputs"`, 1)
	if s, resp, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", timed, nil); s != http.StatusGatewayTimeout || time.Since(start) > time.Second {
		t.Errorf("50 ms timeout behind a long batch: %d %v after %v, want 504 at once", s, resp, time.Since(start))
	}
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.ModelInfer(ctx, &inference.ModelInferRequest{ModelName: "wide",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 1024}, Contents: &inference.InferTensorContents{Fp32Contents: make([]float32, 1024)}}}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("gRPC deadline behind a long batch: %v", err)
	}

	// The two withdrawn requests keep their queue slots until the worker
	// skips them; two more fill the queue of four.
	for range 2 {
		go func() { s, _, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", small, nil); results <- s }()
	}
	waitFor(t, "a full queue", func() bool { return len(v.batch.queue) == 4 })
	start = time.Now()
	s, resp, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", small, nil)
	if s != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(resp["error"]), "queue is full") || time.Since(start) > time.Second {
		t.Errorf("request to a full queue: %d %v after %v, want 429 at once", s, resp, time.Since(start))
	}
	_, err = c.ModelInfer(context.Background(), &inference.ModelInferRequest{ModelName: "wide",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 1024}, Contents: &inference.InferTensorContents{Fp32Contents: make([]float32, 1024)}}}})
	if len(v.batch.queue) == 4 && status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC to a full queue: %v", err)
	}
	for range 3 {
		if s := <-results; s != 200 {
			t.Errorf("a request that was running or queued got %d", s)
		}
	}
}
