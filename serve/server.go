package serve

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
	"google.golang.org/grpc"
)

// Version is what GET /v2 and ServerMetadata report.
const Version = "0.1.0"

// Extensions are the protocol extensions the server implements, by
// Triton's names: binary tensor data, the model repository API, GET
// .../config, GET .../stats, and request parameters (timeout,
// binary_data_output).
var Extensions = []string{"binary_tensor_data", "model_repository", "model_configuration", "statistics", "parameters"}

// Options configure a Server. ModelRepository or Model must be set.
type Options struct {
	ModelRepository string // Triton-style repository: <dir>/<model>/<version>/
	Model           string // one artifact, served as version 1 (instead of a repository)
	ModelName       string // the one artifact's model name (default: its spec name, else the folder's)

	HTTPAddr string // host:port; "" disables HTTP; port 0 picks a free port
	GRPCAddr string // host:port; "" disables gRPC

	PollInterval    time.Duration // repository rescan period; 0 disables polling
	MaxRequestBytes int64         // request body / message limit (default 64 MiB)
	ShutdownTimeout time.Duration // bound on draining at shutdown (default 30 s)
	AuthToken       string        // when set, every call but health checks needs "Authorization: Bearer <token>"
	TLSCertFile     string        // TLS on both ports when cert and key are set
	TLSKeyFile      string

	Logger *slog.Logger // default: discard

	// Registry receives the server's metrics and is what /metrics shows;
	// default a fresh one. Pass one to add your own collectors beside them.
	Registry *prometheus.Registry
	// Routes, when set, mounts extra HTTP handlers on the server's mux (for
	// example the monitor's feedback, alerts and dashboard). The server's
	// own patterns are registered first; authentication wraps them all.
	Routes func(mux *http.ServeMux)
	// GRPCServices, when set, registers extra gRPC services on the
	// server's gRPC server (the monitor's feedback service), behind the
	// same authentication, size limit and logging.
	GRPCServices func(g *grpc.Server)
	// Observer, when set, receives every successful inference (see Observer).
	Observer Observer
}

// Server serves a model repository over the Open Inference Protocol (HTTP
// and gRPC) and the V1 predict API.
type Server struct {
	opts     Options
	repo     *Repository
	metrics  *metrics
	log      *slog.Logger
	handler  http.Handler
	grpc     *grpc.Server
	observer *observerQueue
	draining atomic.Bool

	mu       sync.Mutex
	httpAddr string
	grpcAddr string
	started  chan struct{}
}

// New checks opts and builds a Server; models load when Serve starts, so
// the server is live (and not ready) while they do.
func New(opts Options) (*Server, error) {
	if (opts.ModelRepository == "") == (opts.Model == "") {
		return nil, errors.New("serve: set exactly one of a model repository and a model")
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 64 << 20
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("serve: TLS needs both a certificate and a key file")
	}
	if opts.Model != "" && opts.ModelName == "" {
		opts.ModelName = artifactName(opts.Model)
	}
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics(opts.Registry), started: make(chan struct{})}
	s.repo = &Repository{root: opts.ModelRepository, single: opts.Model, name: opts.ModelName, load: predict.Load, log: s.log, metrics: s.metrics}
	if opts.Observer != nil {
		s.observer = newObserverQueue(opts.Observer, ObserverQueueSize, s.metrics.dropped, s.log)
		s.repo.versions, _ = opts.Observer.(VersionObserver)
	}
	s.handler = s.httpHandler()
	return s, nil
}

// Repository is the server's model repository.
func (s *Server) Repository() *Repository { return s.repo }

// Handler is the server's HTTP handler (everything served on the HTTP port).
func (s *Server) Handler() http.Handler { return s.handler }

// Addrs reports the addresses listened on, once Serve has bound them.
func (s *Server) Addrs() (httpAddr, grpcAddr string) {
	<-s.started
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr, s.grpcAddr
}

// live reports whether the server answers; ready whether it serves.
func (s *Server) ready() bool { return !s.draining.Load() && s.repo.Ready() }

// Serve listens, loads the models, and serves until ctx ends; then it
// shuts down gracefully: it reports not ready, stops accepting, lets the
// requests in flight finish (up to ShutdownTimeout) and returns. In
// one-model mode a model that fails to load is an error; in repository
// mode the failure is logged, the server stays unready for that model and
// polling retries.
func (s *Server) Serve(ctx context.Context) error {
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return err
	}
	var hl, gl net.Listener
	if s.opts.HTTPAddr != "" {
		if hl, err = net.Listen("tcp", s.opts.HTTPAddr); err != nil {
			return fmt.Errorf("serve: HTTP: %w", err)
		}
	}
	if s.opts.GRPCAddr != "" {
		if gl, err = net.Listen("tcp", s.opts.GRPCAddr); err != nil {
			if hl != nil {
				hl.Close()
			}
			return fmt.Errorf("serve: gRPC: %w", err)
		}
	}
	s.grpc = s.grpcServer(tlsConf)
	// Bounded reads: a client that trickles its headers or body cannot hold
	// a connection for ever. No write timeout: generation may take long.
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errs := make(chan error, 2)
	s.mu.Lock()
	if hl != nil {
		s.httpAddr = hl.Addr().String()
		if tlsConf != nil {
			hs.TLSConfig = tlsConf
			go func() { errs <- hs.ServeTLS(hl, "", "") }()
		} else {
			go func() { errs <- hs.Serve(hl) }()
		}
	}
	if gl != nil {
		s.grpcAddr = gl.Addr().String()
		go func() { errs <- s.grpc.Serve(gl) }()
	}
	s.mu.Unlock()
	close(s.started)
	s.log.Info("listening", "http", s.httpAddr, "grpc", s.grpcAddr, "tls", tlsConf != nil)

	loadErr := s.repo.Scan()
	if loadErr != nil && s.opts.Model != "" {
		s.shutdown(hs)
		return loadErr
	}
	s.log.Info("models loaded", "ready", s.repo.Ready())
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	if s.opts.PollInterval > 0 {
		go s.repo.poll(pollCtx, s.opts.PollInterval)
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.shutdown(hs)
			return fmt.Errorf("serve: %w", err)
		}
	}
	stopPoll()
	return s.shutdown(hs)
}

// shutdown drains both ports within ShutdownTimeout, then stops the models.
func (s *Server) shutdown(hs *http.Server) error {
	s.draining.Store(true)
	s.log.Info("shutting down: not ready, draining requests in flight", "timeout", s.opts.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpc.Stop()
		}
	}()
	err := hs.Shutdown(ctx)
	if err != nil {
		hs.Close()
	}
	wg.Wait()
	s.repo.close()
	if s.observer != nil {
		s.observer.close()
	}
	s.log.Info("stopped")
	if err != nil {
		return fmt.Errorf("serve: draining HTTP requests: %w", err)
	}
	return nil
}

func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.opts.TLSCertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.opts.TLSCertFile, s.opts.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("serve: TLS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// artifactName is the name a single artifact is served under: its spec's
// name, else its folder's (the spec is checked properly when it loads).
func artifactName(dir string) string {
	var spec struct {
		Name string `json:"name"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, model.SpecFile)); err == nil && json.Unmarshal(b, &spec) == nil && spec.Name != "" {
		return spec.Name
	}
	return filepath.Base(filepath.Clean(dir))
}
