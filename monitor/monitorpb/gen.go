// Package monitorpb holds the Go code generated from monitor.proto: the
// gRPC twin of the monitoring feedback endpoint (service
// shen.monitor.v1.ModelMonitorService), which package monitor implements.
// Regenerate with `go generate ./monitor/monitorpb` (protoc from Debian's
// protobuf-compiler, protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.6.2).
package monitorpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Mmonitor.proto=github.com/shenml/shen/monitor/monitorpb --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mmonitor.proto=github.com/shenml/shen/monitor/monitorpb monitor.proto
