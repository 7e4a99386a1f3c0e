package monitor

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shenml/shen/monitor/monitorpb"
)

// FeedbackService returns the gRPC twin of POST .../feedback
// (shen.monitor.v1.ModelMonitorService), for a server to register beside
// GRPCInferenceService: the same join, the same result. Unknown models
// are NOT_FOUND; a call whose items are all unusable is INVALID_ARGUMENT,
// and one whose request ids are all unknown NOT_FOUND.
func (h *Hub) FeedbackService() monitorpb.ModelMonitorServiceServer {
	return &feedbackService{h: h}
}

type feedbackService struct {
	monitorpb.UnimplementedModelMonitorServiceServer
	h *Hub
}

func (s *feedbackService) ModelFeedback(_ context.Context, req *monitorpb.ModelFeedbackRequest) (*monitorpb.ModelFeedbackResponse, error) {
	m := s.h.Get(req.GetModelName(), req.GetModelVersion())
	if m == nil {
		return nil, status.Errorf(codes.NotFound, "no monitored model %q version %q", req.GetModelName(), req.GetModelVersion())
	}
	if len(req.GetFeedback()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no feedback items")
	}
	items := make([]FeedbackItem, 0, len(req.GetFeedback()))
	var bad []string
	for i, it := range req.GetFeedback() {
		var labels []any
		switch {
		case len(it.GetLabels()) > 0 && len(it.GetValues()) > 0:
			bad = append(bad, fmt.Sprintf("feedback[%d]: give labels (classes) or values (regression), not both", i))
			continue
		case len(it.GetLabels()) > 0:
			for _, l := range it.GetLabels() {
				labels = append(labels, l)
			}
		default:
			for _, v := range it.GetValues() {
				labels = append(labels, v)
			}
		}
		items = append(items, FeedbackItem{RequestID: it.GetRequestId(), Labels: labels})
	}
	res := applyFeedback(m, items)
	res.Errors = append(bad, res.Errors...)
	switch {
	case res.Joined == 0 && len(res.Errors) > 0:
		return nil, status.Error(codes.InvalidArgument, strings.Join(res.Errors, "; "))
	case res.Joined == 0 && len(res.Unknown) > 0:
		return nil, status.Errorf(codes.NotFound, "unknown request ids: %s", strings.Join(res.Unknown, ", "))
	}
	return &monitorpb.ModelFeedbackResponse{Joined: int64(res.Joined), Unknown: res.Unknown, Errors: res.Errors}, nil
}
