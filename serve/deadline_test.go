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

// TestDeadlines: with batches that wait long for company, a request's
// "timeout" parameter (HTTP) or deadline (gRPC) ends it on time with 504 /
// DEADLINE_EXCEEDED, withdrawn from the gathering batch.
func TestDeadlines(t *testing.T) {
	root, _ := repoWith(t, "iris", "max_batch_size: 64\ndynamic_batching: {max_queue_delay_microseconds: 3000000, max_queue_size: 2}\n", 1)
	ts := startServer(t, Options{ModelRepository: root})
	body := `{"parameters":{"timeout":50000},"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`
	start := time.Now()
	status1, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", body, nil)
	if status1 != http.StatusGatewayTimeout || time.Since(start) > 2*time.Second {
		t.Errorf("50 ms timeout: %d %v after %v, want 504 well before the 3 s batch delay", status1, resp, time.Since(start))
	}
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ModelInfer(ctx, &inference.ModelInferRequest{ModelName: "iris",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &inference.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}}}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("gRPC deadline: %v", err)
	}

}

// TestQueueFull: while one instance runs a long batch, two requests fill a
// queue of two and the next is refused at once with 429 (HTTP) and
// RESOURCE_EXHAUSTED (gRPC); the queued ones are then answered.
func TestQueueFull(t *testing.T) {
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
	writeFile(t, filepath.Join(root, "wide", "config.yaml"), "max_batch_size: 0\ndynamic_batching: {max_queue_size: 2}\n")
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
	waitFor(t, "the long batch to start", func() bool { return len(v.batch.queue) == 0 && v.inflight.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	for range 2 {
		go func() { s, _, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", small, nil); results <- s }()
	}
	waitFor(t, "a full queue", func() bool { return len(v.batch.queue) == 2 })
	start := time.Now()
	s, resp, _ := call(t, "POST", ts.url+"/v2/models/wide/infer", small, nil)
	if s != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(resp["error"]), "queue is full") || time.Since(start) > time.Second {
		t.Errorf("request to a full queue: %d %v after %v, want 429 at once", s, resp, time.Since(start))
	}
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	_, err = c.ModelInfer(context.Background(), &inference.ModelInferRequest{ModelName: "wide",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 1024}, Contents: &inference.InferTensorContents{Fp32Contents: make([]float32, 1024)}}}})
	if len(v.batch.queue) == 2 && status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC to a full queue: %v", err)
	}
	for range 3 {
		if s := <-results; s != 200 {
			t.Errorf("a request that was running or queued got %d", s)
		}
	}
}
