// Package onnxpb holds the Go types generated from the official ONNX
// protobuf schema (onnx.proto from ONNX 1.12, as Debian's libonnx-dev ships
// it at /usr/include/onnx/onnx.proto; a verbatim copy sits beside this file).
// Regenerate with `go generate` after installing protoc and protoc-gen-go
// v1.36.12 (`go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12`).
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/shenml/shen/onnx/onnxpb onnx.proto
