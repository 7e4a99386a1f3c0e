package monitor

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shenml/shen/monitor/monitorpb"
)

// The gRPC twin of the feedback endpoint, over a real connection on
// loopback: feedback moves the quality metric as the HTTP endpoint's
// does, and mistakes get the codes that say whose fault they are.
func TestFeedbackOverGRPC(t *testing.T) {
	hub, err := NewHub(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	spec, prof := testArtifact()
	m, err := NewModel("toy", "1", spec, prof, testConfig(""), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(m)
	reqs := send(t, m, rand.New(rand.NewPCG(3, 4)), traffic{}, 100, "g")

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	monitorpb.RegisterModelMonitorServiceServer(srv, hub.FeedbackService())
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := monitorpb.NewModelMonitorServiceClient(conn)
	ctx := context.Background()

	// Wrong labels for every request: accuracy falls to 0.
	var items []*monitorpb.FeedbackItem
	for id, rows := range reqs {
		it := &monitorpb.FeedbackItem{RequestId: id}
		for _, c := range toyPredict(rows) {
			it.Labels = append(it.Labels, spec.Labels[1-c])
		}
		items = append(items, it)
	}
	res, err := client.ModelFeedback(ctx, &monitorpb.ModelFeedbackRequest{ModelName: "toy", Feedback: items})
	if err != nil || res.Joined != 100 {
		t.Fatalf("feedback: %v joined, %v", res, err)
	}
	if q := m.Snapshot().Quality; q.Metrics["accuracy"] != 0 || q.Rows != 100 {
		t.Errorf("quality after wrong labels over gRPC: %+v", q)
	}
	fresh := ""
	for id := range send(t, m, rand.New(rand.NewPCG(5, 6)), traffic{}, 1, "h") {
		fresh = id
	}
	for _, tc := range []struct {
		name string
		req  *monitorpb.ModelFeedbackRequest
		code codes.Code
	}{
		{"unknown model", &monitorpb.ModelFeedbackRequest{ModelName: "nope", Feedback: items[:1]}, codes.NotFound},
		{"no items", &monitorpb.ModelFeedbackRequest{ModelName: "toy"}, codes.InvalidArgument},
		{"unknown request", &monitorpb.ModelFeedbackRequest{ModelName: "toy", Feedback: []*monitorpb.FeedbackItem{{RequestId: "never", Labels: []string{"a"}}}}, codes.NotFound},
		{"labels and values", &monitorpb.ModelFeedbackRequest{ModelName: "toy", Feedback: []*monitorpb.FeedbackItem{{RequestId: "x", Labels: []string{"a"}, Values: []float64{1}}}}, codes.InvalidArgument},
		{"not a class", &monitorpb.ModelFeedbackRequest{ModelName: "toy", Feedback: []*monitorpb.FeedbackItem{{RequestId: fresh, Labels: []string{"no such class"}}}}, codes.InvalidArgument},
	} {
		_, err := client.ModelFeedback(ctx, tc.req)
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
		}
	}
}
