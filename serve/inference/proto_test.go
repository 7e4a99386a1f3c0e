package inference

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestProtoMatchesSpec checks that grpc_predict_v2.proto is the published
// open_inference_grpc.proto with only the repository calls added: every spec
// line appears in order, and every added line belongs to the additions.
func TestProtoMatchesSpec(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "specs", "open-inference-protocol", "open_inference_grpc.proto"))
	if err != nil {
		t.Skipf("the verbatim spec is not beside this checkout: %v", err)
	}
	ours, err := os.ReadFile("grpc_predict_v2.proto")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(string(spec), "\n")
	i := 0
	for n, line := range strings.Split(string(ours), "\n") {
		if i < len(want) && line == want[i] {
			i++
			continue
		}
		s := strings.TrimSpace(line)
		added := s == "" || s == "{" || s == "}" || strings.HasPrefix(s, "//") ||
			strings.Contains(s, "Repository") || strings.HasPrefix(s, "string model_name = 1;") ||
			strings.HasPrefix(s, "bool isLoaded = 2;") || strings.HasPrefix(s, "bool isUnloaded = 2;")
		if !added {
			t.Errorf("grpc_predict_v2.proto:%d: %q is neither in the spec nor part of the repository calls", n+1, line)
		}
	}
	if i != len(want) {
		t.Fatalf("spec line %d %q is missing from grpc_predict_v2.proto", i+1, want[i])
	}
}

// TestRoundTrip encodes and decodes a request with raw contents, the
// generated code's own check that the messages carry what the spec says.
func TestRoundTrip(t *testing.T) {
	in := &ModelInferRequest{
		ModelName: "mnist", Id: "r1",
		Inputs:           []*ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}}},
		RawInputContents: [][]byte{{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}},
	}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out ModelInferRequest
	if err := proto.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, &out) {
		t.Fatalf("round trip changed the request: %v != %v", &out, in)
	}
	if GRPCInferenceService_RepositoryModelLoad_FullMethodName != "/inference.GRPCInferenceService/RepositoryModelLoad" {
		t.Fatalf("repository call is %s, KServe clients call /inference.GRPCInferenceService/RepositoryModelLoad", GRPCInferenceService_RepositoryModelLoad_FullMethodName)
	}
}
