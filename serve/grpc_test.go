package serve

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/serve/inference"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func dialGRPC(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestGRPC(t *testing.T) {
	root := t.TempDir()
	copyArtifact(t, trainedIris(t), root+"/iris/1")
	ts := startServer(t, Options{ModelRepository: root})
	conn := dialGRPC(t, ts.grpcAddr)
	c := inference.NewGRPCInferenceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := predict.Load(trainedIris(t))
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]float32, 2*3)
	if err := p.Forward(irisRows[:8], 2, raw); err != nil {
		t.Fatal(err)
	}
	want := p.Answer(raw, 2)

	if r, err := c.ServerLive(ctx, &inference.ServerLiveRequest{}); err != nil || !r.Live {
		t.Fatalf("ServerLive: %v %v", r, err)
	}
	if r, err := c.ServerReady(ctx, &inference.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Fatalf("ServerReady: %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &inference.ModelReadyRequest{Name: "iris"}); err != nil || !r.Ready {
		t.Fatalf("ModelReady: %v %v", r, err)
	}
	if r, err := c.ServerMetadata(ctx, &inference.ServerMetadataRequest{}); err != nil || r.Name != "shen" || len(r.Extensions) == 0 {
		t.Fatalf("ServerMetadata: %v %v", r, err)
	}
	md, err := c.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: "iris", Version: "1"})
	if err != nil || md.Inputs[0].Name != "input" || len(md.Outputs) != 4 || md.Outputs[3].Name != "label" || md.Outputs[3].Datatype != "BYTES" {
		t.Fatalf("ModelMetadata: %v %v", md, err)
	}

	// Typed contents in, typed contents out.
	req := &inference.ModelInferRequest{ModelName: "iris", Id: "g1",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{2, 4},
			Contents: &inference.InferTensorContents{Fp32Contents: irisRows[:8]}}}}
	r, err := c.ModelInfer(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != "g1" || r.ModelVersion != "1" || len(r.Outputs) != 4 {
		t.Fatalf("ModelInfer: %v", r)
	}
	if got := r.Outputs[0].Contents.Fp32Contents; !near(got, raw) {
		t.Errorf("raw outputs %v, predict's Forward gives %v", got, raw)
	}
	if got := r.Outputs[1].Contents.Fp32Contents; !near(got, want.Probs) {
		t.Errorf("probabilities %v, want %v", got, want.Probs)
	}
	if got := r.Outputs[2].Contents.Int64Contents; got[0] != int64(want.Class[0]) || got[1] != int64(want.Class[1]) {
		t.Errorf("classes %v, want %v", got, want.Class)
	}
	if got := r.Outputs[3].Contents.BytesContents; string(got[0]) != want.Label(0) || string(got[1]) != want.Label(1) {
		t.Errorf("labels %q, want %s %s", got, want.Label(0), want.Label(1))
	}

	// raw_input_contents in, raw_output_contents out, one requested output.
	rawIn := make([]byte, 32)
	for i, v := range irisRows[:8] {
		binary.LittleEndian.PutUint32(rawIn[4*i:], math.Float32bits(v))
	}
	r, err = c.ModelInfer(ctx, &inference.ModelInferRequest{ModelName: "iris", ModelVersion: "1",
		Inputs:           []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{2, 4}}},
		Outputs:          []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "probabilities"}},
		RawInputContents: [][]byte{rawIn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outputs) != 1 || len(r.RawOutputContents) != 1 || len(r.RawOutputContents[0]) != 24 {
		t.Fatalf("raw answer: %v", r)
	}
	for i, w := range want.Probs {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(r.RawOutputContents[0][4*i:])); math.Abs(float64(got-w)) > 1e-6 {
			t.Errorf("raw probability %d = %v, want %v", i, got, w)
		}
	}

	// Errors carry the codes that say whose fault they are.
	bad := []struct {
		req  *inference.ModelInferRequest
		code codes.Code
		says string
	}{
		{&inference.ModelInferRequest{ModelName: "nope"}, codes.NotFound, `unknown model "nope"`},
		{&inference.ModelInferRequest{ModelName: "iris"}, codes.InvalidArgument, "no inputs"},
		{&inference.ModelInferRequest{ModelName: "iris", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4},
			Contents: &inference.InferTensorContents{Fp32Contents: []float32{1, 2, 3}}}}}, codes.InvalidArgument, "contents hold 3 elements"},
		{&inference.ModelInferRequest{ModelName: "iris", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "INT32", Shape: []int64{1, 4},
			Contents: &inference.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}}}}, codes.InvalidArgument, "int_contents holds 0"},
		{&inference.ModelInferRequest{ModelName: "iris", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4},
			Contents: &inference.InferTensorContents{Fp32Contents: []float32{1, float32(math.Inf(1)), 3, 4}}}}}, codes.InvalidArgument, "element 1 is +Inf"},
		{&inference.ModelInferRequest{ModelName: "iris", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}}},
			RawInputContents: [][]byte{make([]byte, 15)}}, codes.InvalidArgument, "raw_input_contents holds 15 bytes"},
		{&inference.ModelInferRequest{ModelName: "iris", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP16", Shape: []int64{1, 4},
			Contents: &inference.InferTensorContents{}}}}, codes.InvalidArgument, "FP16 has no typed contents"},
	}
	for _, b := range bad {
		_, err := c.ModelInfer(ctx, b.req)
		if st, _ := status.FromError(err); st.Code() != b.code || !strings.Contains(st.Message(), b.says) {
			t.Errorf("%v: %v, want %v naming %q", b.req, err, b.code, b.says)
		}
	}

	// Health and the repository calls.
	h := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "inference.GRPCInferenceService"} {
		if r, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: svc}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: %v %v", svc, r, err)
		}
	}
	if _, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: "other"}); status.Code(err) != codes.NotFound {
		t.Errorf("health of an unknown service: %v", err)
	}
	if r, err := c.RepositoryModelUnload(ctx, &inference.RepositoryModelUnloadRequest{ModelName: "iris"}); err != nil || !r.IsUnloaded {
		t.Fatalf("unload: %v %v", r, err)
	}
	if _, err := c.ModelInfer(ctx, req); status.Code(err) != codes.Unavailable {
		t.Errorf("infer on an unloaded model: %v", err)
	}
	if r, err := h.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health after an explicit unload: %v %v (an unloaded model does not make the server unready)", r, err)
	}
	if r, err := c.RepositoryModelLoad(ctx, &inference.RepositoryModelLoadRequest{ModelName: "iris"}); err != nil || !r.IsLoaded {
		t.Fatalf("load: %v %v", r, err)
	}
	if _, err := c.RepositoryModelLoad(ctx, &inference.RepositoryModelLoadRequest{ModelName: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("loading an unknown model: %v", err)
	}
	if _, err := c.ModelInfer(ctx, req); err != nil {
		t.Errorf("infer after reload: %v", err)
	}
}

// TestGRPCMessageLimit: a message over MaxRequestBytes is refused with
// RESOURCE_EXHAUSTED, and the server keeps serving.
func TestGRPCMessageLimit(t *testing.T) {
	root, _ := repoWith(t, "iris", "", 1)
	ts := startServer(t, Options{ModelRepository: root, MaxRequestBytes: 4096})
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, ts.grpcAddr))
	big := &inference.ModelInferRequest{ModelName: "iris",
		Inputs:           []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{512, 4}}},
		RawInputContents: [][]byte{make([]byte, 512*16)}}
	if _, err := c.ModelInfer(context.Background(), big); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("8 KiB message with a 4 KiB limit: %v", err)
	}
	small := &inference.ModelInferRequest{ModelName: "iris",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &inference.InferTensorContents{Fp32Contents: irisRows[:4]}}}}
	if _, err := c.ModelInfer(context.Background(), small); err != nil {
		t.Errorf("after the refusal: %v", err)
	}
}
