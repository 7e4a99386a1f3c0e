package serve

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shenml/shen/predict"
	"github.com/shenml/shen/serve/inference"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// grpcServer builds the gRPC server: GRPCInferenceService, the standard
// health service (SERVING once ready) and reflection, behind the same
// authentication, size limit and logging as HTTP.
func (s *Server) grpcServer(tlsConf *tls.Config) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(min(s.opts.MaxRequestBytes, math.MaxInt32))),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	}
	if tlsConf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConf)))
	}
	g := grpc.NewServer(opts...)
	inference.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
	healthpb.RegisterHealthServer(g, &healthService{s: s})
	if s.opts.GRPCServices != nil {
		s.opts.GRPCServices(g)
	}
	reflection.Register(g)
	return g
}

// authorized checks the bearer token of a call; health checks are public.
func (s *Server) authorized(ctx context.Context, method string) error {
	if s.opts.AuthToken == "" || strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(v), []byte("Bearer "+s.opts.AuthToken)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "missing or wrong bearer token")
}

// unaryInterceptor authenticates, names the call with a request id
// (x-request-id metadata, else a new one) and logs it.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	if err := s.authorized(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	id := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if ids := md.Get("x-request-id"); len(ids) > 0 && len(ids[0]) <= 128 {
			id = ids[0]
		}
	}
	if id == "" {
		id = newID()
	}
	ctx = context.WithValue(ctx, ctxKey{}, id)
	resp, err := handler(ctx, req)
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelInfo
	}
	if s.log.Enabled(ctx, level) {
		s.log.LogAttrs(ctx, level, "grpc request", slog.String("request_id", id), slog.String("method", info.FullMethod),
			slog.String("code", status.Code(err).String()), slog.Duration("duration", time.Since(start)))
	}
	return resp, err
}

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.authorized(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// grpcError converts an error to a status with its reason's code.
func grpcError(err error) error {
	if _, ok := status.FromError(err); ok && !errors.As(err, new(*failure)) {
		return err
	}
	return status.Error(reasons[reasonOf(err)].code, err.Error())
}

// grpcService is GRPCInferenceService.
type grpcService struct {
	inference.UnimplementedGRPCInferenceServiceServer
	s *Server
}

func (g *grpcService) ServerLive(context.Context, *inference.ServerLiveRequest) (*inference.ServerLiveResponse, error) {
	return &inference.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: g.s.ready()}, nil
}

func (g *grpcService) ModelReady(ctx context.Context, req *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	v, err := g.s.repo.lookup(req.Name, req.Version)
	if err != nil {
		if reasonOf(err) == reasonNotFound {
			return nil, grpcError(err)
		}
		return &inference.ModelReadyResponse{Ready: false}, nil
	}
	v.release()
	return &inference.ModelReadyResponse{Ready: true}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *inference.ServerMetadataRequest) (*inference.ServerMetadataResponse, error) {
	return &inference.ServerMetadataResponse{Name: "shen", Version: Version, Extensions: Extensions}, nil
}

func (g *grpcService) ModelMetadata(ctx context.Context, req *inference.ModelMetadataRequest) (*inference.ModelMetadataResponse, error) {
	v, err := g.s.repo.lookup(req.Name, req.Version)
	if err != nil {
		return nil, grpcError(err)
	}
	defer v.release()
	md := g.s.metadata(v)
	resp := &inference.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform, Properties: md.Parameters}
	for _, t := range md.Inputs {
		resp.Inputs = append(resp.Inputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	for _, t := range md.Outputs {
		resp.Outputs = append(resp.Outputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	return resp, nil
}

func (g *grpcService) RepositoryModelLoad(ctx context.Context, req *inference.RepositoryModelLoadRequest) (*inference.RepositoryModelLoadResponse, error) {
	if err := g.s.repo.Load(req.ModelName); err != nil {
		if rs := reasonOf(err); rs == reasonInternal || rs == reasonUnavailable {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, grpcError(err)
	}
	return &inference.RepositoryModelLoadResponse{ModelName: req.ModelName, IsLoaded: true}, nil
}

func (g *grpcService) RepositoryModelUnload(ctx context.Context, req *inference.RepositoryModelUnloadRequest) (*inference.RepositoryModelUnloadResponse, error) {
	if err := g.s.repo.Unload(req.ModelName); err != nil {
		return nil, grpcError(err)
	}
	return &inference.RepositoryModelUnloadResponse{ModelName: req.ModelName, IsUnloaded: true}, nil
}

// ModelInfer runs a request given as typed contents or raw_input_contents;
// the answer comes the same way (raw_output_contents for raw requests).
func (g *grpcService) ModelInfer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	s := g.s
	start := time.Now()
	inflight := s.metrics.inFlight.WithLabelValues(protoV2GRPC.String())
	inflight.Inc()
	defer inflight.Dec()
	v, err := s.repo.lookup(req.ModelName, req.ModelVersion)
	if err != nil {
		s.grpcFail(req.ModelName, "", err)
		return nil, grpcError(err)
	}
	defer v.release()
	resp, err := g.infer(ctx, v, req, start)
	if err != nil {
		v.failed(time.Since(start))
		s.grpcFail(req.ModelName, v.label, err)
		return nil, grpcError(err)
	}
	return resp, nil
}

func (s *Server) grpcFail(model, ver string, err error) {
	if s.repo.current()[model] == nil {
		model, ver = "", ""
	}
	s.metrics.fail(protoV2GRPC, model, ver, reasonOf(err).String())
}

func (g *grpcService) infer(ctx context.Context, v *version, req *inference.ModelInferRequest, start time.Time) (*inference.ModelInferResponse, error) {
	if len(req.Inputs) == 0 {
		return nil, fail(reasonBadRequest, errors.New("the request has no inputs"))
	}
	names := make([]string, len(req.Inputs))
	for i, in := range req.Inputs {
		names[i] = in.Name
	}
	if !isPrepared(v, names) {
		sel, err := grpcOutputs(v, req.Outputs)
		if err != nil {
			return nil, fail(reasonBadRequest, err)
		}
		j, records, err := fillPrepared(v, func() ([]rawTensor, error) { return rawFromGRPC(req) })
		if err != nil {
			return nil, fail(reasonBadRequest, err)
		}
		defer putJob(j)
		return g.run(ctx, v, req, j, sel, len(req.RawInputContents) > 0, records, start)
	}
	in := req.Inputs[0]
	dt, n, err := checkInput(v, in.Name, in.Datatype, in.Shape, len(req.Inputs))
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	sel, err := grpcOutputs(v, req.Outputs)
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	raw := len(req.RawInputContents) > 0
	if count := n * v.pred.InputSize(); raw && len(req.RawInputContents[0]) != count*dt.size() {
		return nil, fail(reasonBadRequest, fmt.Errorf("input %q: raw_input_contents holds %d bytes; %d elements of %s take %d", in.Name, len(req.RawInputContents[0]), count, dt, count*dt.size()))
	} else if !raw && dt != dtFP16 && dt != dtBF16 && contentsLen(in.Contents) != count {
		return nil, fail(reasonBadRequest, fmt.Errorf("input %q: contents hold %d elements; its shape says %d", in.Name, contentsLen(in.Contents), count))
	}
	j := getJob(n, v.pred.InputSize(), v.pred.Outputs())
	defer putJob(j)
	if raw {
		err = fillRaw(in.Name, dt, req.RawInputContents, j.x)
	} else {
		err = fillContents(in.Name, dt, in.Contents, j.x)
	}
	if err == nil {
		err = checkFinite(in.Name, j.x)
	}
	if err != nil {
		return nil, fail(reasonBadRequest, err)
	}
	return g.run(ctx, v, req, j, sel, raw, nil, start)
}

// run runs a filled job and builds the response: raw output contents for
// a raw request, typed contents otherwise.
func (g *grpcService) run(ctx context.Context, v *version, req *inference.ModelInferRequest, j *job, sel []selected, raw bool, records []map[string]any, start time.Time) (*inference.ModelInferResponse, error) {
	n := j.n
	if err := v.batch.run(ctx, j); err != nil {
		return nil, err
	}
	res := g.s.answer(v, j, sel)
	resp := &inference.ModelInferResponse{ModelName: v.model, ModelVersion: v.label, Id: req.Id}
	for _, o := range sel {
		t := &inference.ModelInferResponse_InferOutputTensor{Name: o.name, Datatype: o.dt.String(), Shape: o.shape(n)}
		if raw {
			resp.RawOutputContents = append(resp.RawOutputContents, o.appendBinary(nil, j, res))
		} else {
			t.Contents = o.contents(j, res)
		}
		resp.Outputs = append(resp.Outputs, t)
	}
	v.metrics.observe(protoV2GRPC, j, time.Since(start))
	v.succeeded(j, time.Since(start))
	g.s.observeV2(v, requestIDOr(req.Id, ctx), protoV2GRPC, j, records, res, time.Since(start))
	return resp, nil
}

// grpcOutputs resolves the requested outputs (all when none are named).
func grpcOutputs(v *version, req []*inference.ModelInferRequest_InferRequestedOutputTensor) ([]selected, error) {
	names := make([]v2RequestedOutput, len(req))
	for i, r := range req {
		names[i].Name = r.Name
	}
	return selectOutputs(v, names, false, nil)
}

// fillRaw decodes raw_input_contents (one entry, the one input's bytes).
func fillRaw(name string, dt datatype, raw [][]byte, dst []float32) error {
	if len(raw) != 1 {
		return fmt.Errorf("raw_input_contents has %d entries; the request has 1 input", len(raw))
	}
	if want := len(dst) * dt.size(); len(raw[0]) != want {
		return fmt.Errorf("input %q: raw_input_contents holds %d bytes; %d elements of %s take %d", name, len(raw[0]), len(dst), dt, want)
	}
	decodeBinary(dt, raw[0], dst)
	return nil
}

// fillContents decodes typed contents, the field the datatype uses.
func fillContents[T float32 | float64](name string, dt datatype, c *inference.InferTensorContents, dst []T) error {
	if c == nil {
		return fmt.Errorf("input %q has no contents and the request no raw_input_contents", name)
	}
	lo, hi, _ := dt.bounds()
	count := func(field string, n int) error {
		if n != len(dst) {
			return fmt.Errorf("input %q: contents.%s holds %d elements; its shape says %d", name, field, n, len(dst))
		}
		return nil
	}
	inRange := func(i int, f float64) error {
		if f < lo || f > hi {
			return fmt.Errorf("input %q element %d: %v is not a valid %s value", name, i, f, dt)
		}
		return nil
	}
	switch dt {
	case dtFP32:
		if err := count("fp32_contents", len(c.Fp32Contents)); err != nil {
			return err
		}
		for i, f := range c.Fp32Contents {
			dst[i] = T(f)
		}
	case dtFP64:
		if err := count("fp64_contents", len(c.Fp64Contents)); err != nil {
			return err
		}
		for i, f := range c.Fp64Contents {
			if err := inRange(i, f); err != nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return err
			}
			dst[i] = T(f)
		}
	case dtInt8, dtInt16, dtInt32:
		if err := count("int_contents", len(c.IntContents)); err != nil {
			return err
		}
		for i, x := range c.IntContents {
			if err := inRange(i, float64(x)); err != nil {
				return err
			}
			dst[i] = T(x)
		}
	case dtInt64:
		if err := count("int64_contents", len(c.Int64Contents)); err != nil {
			return err
		}
		for i, x := range c.Int64Contents {
			dst[i] = T(x)
		}
	case dtUint8, dtUint16, dtUint32:
		if err := count("uint_contents", len(c.UintContents)); err != nil {
			return err
		}
		for i, x := range c.UintContents {
			if err := inRange(i, float64(x)); err != nil {
				return err
			}
			dst[i] = T(x)
		}
	case dtUint64:
		if err := count("uint64_contents", len(c.Uint64Contents)); err != nil {
			return err
		}
		for i, x := range c.Uint64Contents {
			dst[i] = T(x)
		}
	case dtBool:
		if err := count("bool_contents", len(c.BoolContents)); err != nil {
			return err
		}
		for i, b := range c.BoolContents {
			dst[i] = 0
			if b {
				dst[i] = 1
			}
		}
	default:
		return fmt.Errorf("input %q: %s has no typed contents field; send it in raw_input_contents", name, dt)
	}
	return nil
}

// healthService is grpc.health.v1.Health: SERVING once the server is
// ready, NOT_SERVING while loading or draining; the overall service ("")
// and inference.GRPCInferenceService are known.
type healthService struct {
	healthpb.UnimplementedHealthServer
	s *Server
}

func (h *healthService) status(service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	if service != "" && service != inference.GRPCInferenceService_ServiceDesc.ServiceName {
		return healthpb.HealthCheckResponse_SERVICE_UNKNOWN, status.Errorf(codes.NotFound, "unknown service %q", service)
	}
	if h.s.ready() {
		return healthpb.HealthCheckResponse_SERVING, nil
	}
	return healthpb.HealthCheckResponse_NOT_SERVING, nil
}

func (h *healthService) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	st, err := h.status(req.Service)
	if err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// Watch sends the status now and each change, checking twice a second.
func (h *healthService) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	last := healthpb.HealthCheckResponse_ServingStatus(-1)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		st, _ := h.status(req.Service)
		if st != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-t.C:
		}
	}
}

// contents is an output as typed gRPC contents.
func (o outputSpec) contents(j *job, res *predict.Result) *inference.InferTensorContents {
	switch o.kind {
	case outClass:
		c := make([]int64, len(res.Class))
		for i, k := range res.Class {
			c[i] = int64(k)
		}
		return &inference.InferTensorContents{Int64Contents: c}
	case outLabel:
		c := make([][]byte, len(res.Class))
		for i := range res.Class {
			c[i] = []byte(res.Label(i))
		}
		return &inference.InferTensorContents{BytesContents: c}
	}
	return &inference.InferTensorContents{Fp32Contents: slices.Clone(o.floats(j, res))}
}

// contentsLen is the element count of whichever typed contents are set.
func contentsLen(c *inference.InferTensorContents) int {
	if c == nil {
		return 0
	}
	return len(c.BoolContents) + len(c.IntContents) + len(c.Int64Contents) + len(c.UintContents) +
		len(c.Uint64Contents) + len(c.Fp32Contents) + len(c.Fp64Contents) + len(c.BytesContents)
}
