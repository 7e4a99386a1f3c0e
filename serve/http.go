package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// headerLength is the binary tensor data extension's header: the JSON
// header's length when binary data follows it.
const headerLength = "Inference-Header-Content-Length"

// Content types, shared and never modified, so setting them allocates
// nothing.
var (
	applicationJSON = []string{"application/json"}
	octetStream     = []string{"application/octet-stream"}
)

// httpHandler routes the V2 REST API, V1 predict, metrics and Options.Routes,
// behind request ids, logging and (optionally) authentication.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2", s.serverMetadata)
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", s.serverReady)
	mux.HandleFunc("GET /v2/models/{model}", s.modelMetadata)
	mux.HandleFunc("GET /v2/models/{model}/versions/{version}", s.modelMetadata)
	mux.HandleFunc("GET /v2/models/{model}/ready", s.modelReady)
	mux.HandleFunc("GET /v2/models/stats", s.modelStatistics)
	mux.HandleFunc("GET /v2/models/{model}/stats", s.modelStatistics)
	mux.HandleFunc("GET /v2/models/{model}/versions/{version}/stats", s.modelStatistics)
	mux.HandleFunc("GET /v2/models/{model}/config", s.modelConfig)
	mux.HandleFunc("GET /v2/models/{model}/versions/{version}/config", s.modelConfig)
	mux.HandleFunc("GET /v2/models/{model}/versions/{version}/ready", s.modelReady)
	mux.HandleFunc("POST /v2/models/{model}/infer", s.inferHTTP)
	mux.HandleFunc("POST /v2/models/{model}/versions/{version}/infer", s.inferHTTP)
	mux.HandleFunc("POST /v2/repository/index", s.repositoryIndex)
	mux.HandleFunc("POST /v2/repository/models/{model}/load", s.repositoryLoad)
	mux.HandleFunc("POST /v2/repository/models/{model}/unload", s.repositoryUnload)
	mux.HandleFunc("POST /v1/models/{call}", s.predictV1)
	mux.HandleFunc("GET /v1/models/{model}", s.modelStatusV1)

	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{Registry: s.opts.Registry}))
	if s.opts.Routes != nil {
		s.opts.Routes(mux)
	}
	return s.middleware(jsonMuxErrors(mux))
}

// jsonMuxErrors answers requests that match no route (404) or no method
// of a route (405) with {"error": "..."} like every other error, instead
// of the mux's plain text.
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			h.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// muxErrorWriter turns the mux's plain-text error into a JSON one.
type muxErrorWriter struct {
	http.ResponseWriter
	r *http.Request
}

func (w *muxErrorWriter) WriteHeader(code int) {
	w.Header().Del("X-Content-Type-Options")
	b, _ := json.Marshal(map[string]string{"error": fmt.Sprintf("%s %s: %s", w.r.Method, w.r.URL.Path, strings.ToLower(http.StatusText(code)))})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.ResponseWriter.WriteHeader(code)
	w.ResponseWriter.Write(b)
}

// Write drops the mux's text body; WriteHeader wrote the JSON one.
func (w *muxErrorWriter) Write(b []byte) (int, error) { return len(b), nil }

type ctxKey struct{}

// RequestID is the id of the request ctx belongs to: the client's
// X-Request-Id header, or one the server made. Handlers mounted through
// Options.Routes can log with it.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// statusWriter remembers the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware gives every request an id (echoed as X-Request-Id), a body
// limit, authentication when a token is set, and a log line.
func (s *Server) middleware(next http.Handler) http.Handler {
	token := []byte("Bearer " + s.opts.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			id = newID()
			w.Header()["X-Request-Id"] = []string{id}
		} else {
			w.Header()["X-Request-Id"] = r.Header["X-Request-Id"][:1] // the client's, not copied
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		public := r.URL.Path == "/v2/health/live" || r.URL.Path == "/v2/health/ready"
		if s.opts.AuthToken != "" && !public && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), token) != 1 {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="shen"`)
			writeError(sw, reasonUnauthorized, errors.New("missing or wrong bearer token"))
		} else {
			r.Body = http.MaxBytesReader(sw, r.Body, s.opts.MaxRequestBytes)
			next.ServeHTTP(sw, r)
		}
		level := slog.LevelDebug
		if sw.status >= 400 {
			level = slog.LevelInfo
		}
		if s.log.Enabled(r.Context(), level) {
			s.log.LogAttrs(r.Context(), level, "http request", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
		}
	})
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers {"error": "..."} with the reason's status code.
func writeError(w http.ResponseWriter, r reason, err error) {
	writeJSON(w, reasons[r].status, map[string]string{"error": err.Error()})
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "shen", "version": Version, "extensions": Extensions})
}

func (s *Server) serverReady(w http.ResponseWriter, r *http.Request) {
	ready := s.ready()
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]bool{"ready": ready})
}

// tensorMetadata is a model metadata input or output.
type tensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMetadata struct {
	Name       string            `json:"name"`
	Versions   []string          `json:"versions"`
	Platform   string            `json:"platform"`
	Inputs     []tensorMetadata  `json:"inputs"`
	Outputs    []tensorMetadata  `json:"outputs"`
	Parameters map[string]string `json:"parameters,omitempty"`
}

// metadata describes a served version (the protocol's model metadata).
func (s *Server) metadata(v *version) modelMetadata {
	spec := v.pred.Model().Spec
	md := modelMetadata{Name: v.model, Platform: "shen", Parameters: map[string]string{"task": spec.Task}}
	for _, o := range s.repo.current()[v.model].served() {
		md.Versions = append(md.Versions, o.label)
	}
	shape := []int64{-1}
	for _, d := range v.pred.InputShape() {
		shape = append(shape, int64(d))
	}
	md.Inputs = []tensorMetadata{{Name: v.input, Datatype: "FP32", Shape: shape}}
	for _, o := range v.outputs {
		shape := o.shape(-1)
		md.Outputs = append(md.Outputs, tensorMetadata{Name: o.name, Datatype: o.dt.String(), Shape: shape})
	}
	if len(spec.Labels) > 0 {
		md.Parameters["labels"] = strings.Join(spec.Labels, ",")
	}
	return md
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	v, err := s.repo.lookup(r.PathValue("model"), r.PathValue("version"))
	if err != nil {
		writeError(w, reasonOf(err), err)
		return
	}
	defer v.release()
	writeJSON(w, http.StatusOK, s.metadata(v))
}

// modelConfig serves the model configuration extension: the config the
// model is served with (its config file, or the defaults).
func (s *Server) modelConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	v, err := s.repo.lookup(name, r.PathValue("version"))
	if err != nil {
		writeError(w, reasonOf(err), err)
		return
	}
	v.release()
	cfg := s.repo.Config(name)
	cfg.Name = name
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	s.writeReadiness(w, r.PathValue("model"), r.PathValue("version"))
}

// writeReadiness answers whether a model version can serve: 200 with
// ready true, 503 with ready false while it cannot, 404 when there is no
// such model (V2 .../ready and KServe V1's model status alike).
func (s *Server) writeReadiness(w http.ResponseWriter, name, version string) {
	v, err := s.repo.lookup(name, version)
	if err != nil {
		if reasonOf(err) == reasonNotFound {
			writeError(w, reasonNotFound, err)
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"name": name, "ready": false})
		return
	}
	v.release()
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "ready": true})
}

func (s *Server) repositoryIndex(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ready bool `json:"ready"`
	}
	if err := decodeOptionalJSON(r.Body, &req); err != nil {
		writeError(w, reasonBadRequest, err)
		return
	}
	idx := s.repo.Index()
	out := idx[:0:0]
	for _, e := range idx {
		if !req.Ready || e.State == StateReady {
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeOptionalJSON reads a JSON body that may be empty.
func decodeOptionalJSON(body io.Reader, v any) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return bodyError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func (s *Server) repositoryLoad(w http.ResponseWriter, r *http.Request) {
	if err := decodeOptionalJSON(r.Body, &struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}{}); err != nil {
		writeError(w, reasonBadRequest, err)
		return
	}
	name := r.PathValue("model")
	if err := s.repo.Load(name); err != nil {
		rs := reasonOf(err)
		if rs == reasonInternal || rs == reasonUnavailable {
			rs = reasonBadRequest // the artifact on disk is at fault, and the error says how
		}
		writeError(w, rs, err)
		return
	}
	s.log.Info("model loaded through the repository API", "model", name, "request_id", RequestID(r.Context()))
	writeJSON(w, http.StatusOK, map[string]any{"model_name": name, "isLoaded": true})
}

func (s *Server) repositoryUnload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if err := s.repo.Unload(name); err != nil {
		writeError(w, reasonOf(err), err)
		return
	}
	s.log.Info("model unloaded through the repository API", "model", name, "request_id", RequestID(r.Context()))
	writeJSON(w, http.StatusOK, map[string]any{"model_name": name, "isUnloaded": true})
}

// bodyError classifies a failed body read: too large is 413.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return fail(reasonTooLarge, fmt.Errorf("request body is larger than the %d-byte limit", mb.Limit))
	}
	return fail(reasonBadRequest, fmt.Errorf("reading the request body: %w", err))
}

// buffers are pooled request and response bodies.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads a request body into a pooled buffer.
func readBody(r *http.Request) (*bytes.Buffer, error) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		buffers.Put(buf)
		return nil, bodyError(err)
	}
	return buf, nil
}

// requestContext applies the request's "timeout" parameter (microseconds,
// as in Triton) on top of the client's own cancellation.
func requestContext(ctx context.Context, params map[string]json.RawMessage) (context.Context, context.CancelFunc, error) {
	us, ok, err := paramInt(params, "timeout")
	if err != nil || !ok {
		return ctx, func() {}, err
	}
	if us <= 0 {
		return nil, nil, fmt.Errorf("parameter \"timeout\" is %d µs, want more than 0", us)
	}
	c, cancel := context.WithTimeout(ctx, time.Duration(us)*time.Microsecond)
	return c, cancel, nil
}

// inferHTTP serves POST .../infer: a JSON request, or a JSON header and
// binary tensor data (Inference-Header-Content-Length).
func (s *Server) inferHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	inflight := s.metrics.inFlight.WithLabelValues(protoV2HTTP.String())
	inflight.Inc()
	defer inflight.Dec()
	name, ver := r.PathValue("model"), r.PathValue("version")
	body, err := readBody(r)
	if err != nil {
		s.httpFail(w, protoV2HTTP, name, "", err)
		return
	}
	defer buffers.Put(body)
	header, bin := body.Bytes(), []byte(nil)
	if hl := r.Header.Get(headerLength); hl != "" {
		n, err := strconv.Atoi(hl)
		if err != nil || n < 0 || n > len(header) {
			s.httpFail(w, protoV2HTTP, name, "", fail(reasonBadRequest, fmt.Errorf("%s is %q; the body holds %d bytes", headerLength, hl, len(header))))
			return
		}
		header, bin = header[:n], header[n:]
	}
	var req v2Request
	if err := json.Unmarshal(header, &req); err != nil {
		s.httpFail(w, protoV2HTTP, name, "", fail(reasonBadRequest, fmt.Errorf("request JSON: %w", err)))
		return
	}
	v, err := s.repo.lookup(name, ver)
	if err != nil {
		s.httpFail(w, protoV2HTTP, name, "", err)
		return
	}
	defer v.release()
	if err := s.inferV2(w, r, v, &req, bin, start); err != nil {
		v.failed(time.Since(start))
		s.httpFail(w, protoV2HTTP, name, v.label, err)
	}
}

// inferV2 runs a decoded V2 request on v and writes the response.
func (s *Server) inferV2(w http.ResponseWriter, r *http.Request, v *version, req *v2Request, bin []byte, start time.Time) error {
	ctx, cancel, err := requestContext(r.Context(), req.Parameters)
	if err != nil {
		return fail(reasonBadRequest, err)
	}
	defer cancel()
	binaryAll, err := paramBool(req.Parameters, "binary_data_output")
	if err != nil {
		return fail(reasonBadRequest, err)
	}
	var selBuf [4]selected
	sel, err := selectOutputs(v, req.Outputs, binaryAll, selBuf[:0])
	if err != nil {
		return fail(reasonBadRequest, err)
	}
	names := make([]string, len(req.Inputs))
	for i, in := range req.Inputs {
		names[i] = in.Name
	}
	var j *job
	var records []map[string]any
	if isPrepared(v, names) {
		j, err = fillV2JSON(v, req, bin)
	} else {
		j, records, err = fillPrepared(v, func() ([]rawTensor, error) { return rawFromJSON(req, bin) })
	}
	if err != nil {
		return fail(reasonBadRequest, err)
	}
	defer putJob(j)
	if err := v.batch.run(ctx, j); err != nil {
		return err
	}
	out := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(out)
	binOut := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(binOut)
	res := s.answer(v, j, sel)
	hb, bb := appendV2Response(out.AvailableBuffer(), binOut.AvailableBuffer(), v, req.ID, j, res, sel)
	h := w.Header()
	if len(bb) > 0 {
		h.Set(headerLength, strconv.Itoa(len(hb)))
		h["Content-Type"] = octetStream
	} else {
		h["Content-Type"] = applicationJSON
	}
	h.Set("Content-Length", strconv.Itoa(len(hb)+len(bb)))
	w.Write(hb)
	w.Write(bb)
	out.Write(hb) // keep the grown buffers for the next request
	binOut.Write(bb)
	v.metrics.observe(protoV2HTTP, j, time.Since(start))
	v.succeeded(j, time.Since(start))
	s.observeV2(v, requestIDOr(req.ID, r.Context()), protoV2HTTP, j, records, res, time.Since(start))
	return nil
}

func requestIDOr(id string, ctx context.Context) string {
	if id != "" {
		return id
	}
	return RequestID(ctx)
}

// httpFail counts and answers a failed inference.
func (s *Server) httpFail(w http.ResponseWriter, p protocol, model, ver string, err error) {
	rs := reasonOf(err)
	if s.repo.current()[model] == nil {
		model, ver = "", "" // keep client-chosen names out of the label set
	}
	s.metrics.fail(p, model, ver, rs.String())
	if rs == reasonInternal {
		s.log.Error("inference failed", "model", model, "version", ver, "err", err)
	}
	writeError(w, rs, err)
}
