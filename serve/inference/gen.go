// Package inference holds the Go code generated from the Open Inference
// Protocol's gRPC service (package inference, service GRPCInferenceService)
// with KServe's model repository calls: the messages and the client and
// server stubs that package serve implements. Regenerate with
// `go generate ./serve/inference` (protoc from Debian's protobuf-compiler,
// protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.6.2).
package inference

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Mgrpc_predict_v2.proto=github.com/shenml/shen/serve/inference --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mgrpc_predict_v2.proto=github.com/shenml/shen/serve/inference grpc_predict_v2.proto
