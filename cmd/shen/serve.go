package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/shenml/shen/internal/kernel"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/monitor"
	"github.com/shenml/shen/monitor/monitorpb"
	"github.com/shenml/shen/serve"
)

// serveFlags are `shen serve`'s flags.
type serveFlags struct {
	repo, model, name, host string
	httpPort, grpcPort      int
	poll, shutdown          time.Duration
	maxBytes                int64
	tokenFile, cert, key    string
	logFormat, logLevel     string
	threads                 int
	monitor                 bool
}

func serveCmd() *cobra.Command {
	c, _ := newServeCmd()
	return c
}

// newServeCmd builds the command and returns its flags, for tests.
func newServeCmd() (*cobra.Command, *serveFlags) {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve models over the Open Inference Protocol (KServe V2 HTTP and gRPC) and V1 predict",
		Long: `serve loads a Triton-style model repository (<dir>/<model>/<version>/ holding
Shen artifacts, with an optional config.yaml per model: version_policy,
max_batch_size, dynamic_batching, instance_group) or one artifact (--model),
and serves it over HTTP (/v2/..., /v1/models/<m>:predict, /metrics) and gRPC
(inference.GRPCInferenceService, health, reflection). New versions found by
polling are swapped in without failing a request. SIGTERM or Ctrl-C drains
requests in flight and exits within --shutdown-timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			if f.threads > 0 {
				kernel.SetThreads(f.threads)
			}
			s, err := serve.New(opts)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			if m, ok := opts.Observer.(*serveMonitor); ok { // error-rate and latency alerts read the server's metrics
				go m.hub.WatchServerMetrics(ctx, opts.Registry, monitor.ServerMetricNames{Requests: "shen_inference_requests_total",
					Failures: "shen_inference_failures_total", Latency: "shen_inference_request_duration_seconds"}, 2*time.Second)
			}
			return s.Serve(ctx)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.repo, "model-repository", "", "model repository: <dir>/<model>/<version>/ artifacts")
	fl.StringVar(&f.model, "model", "", "serve this one artifact folder instead of a repository")
	fl.StringVar(&f.name, "model-name", "", "name of the --model artifact (default: its spec name)")
	fl.StringVar(&f.host, "host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface, as in a container)")
	fl.IntVar(&f.httpPort, "http-port", 8000, "HTTP port (0: any free port; -1: no HTTP)")
	fl.IntVar(&f.grpcPort, "grpc-port", 8001, "gRPC port (0: any free port; -1: no gRPC)")
	fl.DurationVar(&f.poll, "poll-interval", 15*time.Second, "how often the repository is rescanned for new versions (0: never)")
	fl.DurationVar(&f.shutdown, "shutdown-timeout", 30*time.Second, "bound on draining requests at shutdown")
	fl.Int64Var(&f.maxBytes, "max-request-bytes", 64<<20, "largest request body or gRPC message accepted")
	fl.StringVar(&f.tokenFile, "auth-token-file", "", "file holding a bearer token every call but health checks must carry (or set SHEN_AUTH_TOKEN)")
	fl.StringVar(&f.cert, "tls-cert", "", "TLS certificate (PEM) for both ports")
	fl.StringVar(&f.key, "tls-key", "", "TLS private key (PEM) for both ports")
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug (every request), info, warn or error")
	fl.IntVar(&f.threads, "threads", 0, "compute threads (0: one per core)")
	fl.BoolVar(&f.monitor, "monitor", false, "monitor every served version (drift against its training profile, feedback, alerts, the dashboard at /; settings in the model config's monitoring: section)")
	return c, &f
}

// options checks the flags and turns them into serve.Options.
func (f *serveFlags) options() (serve.Options, error) {
	if (f.repo == "") == (f.model == "") {
		return serve.Options{}, errors.New("serve: give --model-repository DIR or --model DIR")
	}
	if f.name != "" && f.model == "" {
		return serve.Options{}, errors.New("serve: --model-name names a --model artifact")
	}
	for _, dir := range []string{f.repo, f.model} {
		if dir == "" {
			continue
		}
		if st, err := os.Stat(dir); err != nil {
			return serve.Options{}, fmt.Errorf("serve: %w", err)
		} else if !st.IsDir() {
			return serve.Options{}, fmt.Errorf("serve: %s is not a folder", dir)
		}
	}
	addr := func(flag string, port int) (string, error) {
		if port == -1 {
			return "", nil
		}
		if port < 0 || port > 65535 {
			return "", fmt.Errorf("serve: --%s %d is not a port (0 to 65535, or -1 for none)", flag, port)
		}
		return net.JoinHostPort(f.host, strconv.Itoa(port)), nil
	}
	httpAddr, err := addr("http-port", f.httpPort)
	if err != nil {
		return serve.Options{}, err
	}
	grpcAddr, err := addr("grpc-port", f.grpcPort)
	if err != nil {
		return serve.Options{}, err
	}
	if httpAddr == "" && grpcAddr == "" {
		return serve.Options{}, errors.New("serve: both ports are off")
	}
	if f.poll < 0 || f.shutdown <= 0 || f.maxBytes <= 0 {
		return serve.Options{}, errors.New("serve: --poll-interval must be 0 or more, --shutdown-timeout and --max-request-bytes more than 0")
	}
	token := os.Getenv("SHEN_AUTH_TOKEN")
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return serve.Options{}, fmt.Errorf("serve: --auth-token-file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return serve.Options{}, fmt.Errorf("serve: --auth-token-file %s is empty", f.tokenFile)
		}
	}
	logger, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		return serve.Options{}, err
	}
	opts := serve.Options{
		ModelRepository: f.repo, Model: f.model, ModelName: f.name,
		HTTPAddr: httpAddr, GRPCAddr: grpcAddr,
		PollInterval: f.poll, ShutdownTimeout: f.shutdown, MaxRequestBytes: f.maxBytes,
		AuthToken: token, TLSCertFile: f.cert, TLSKeyFile: f.key, Logger: logger,
	}
	if f.monitor {
		reg := prometheus.NewRegistry()
		hub, err := monitor.NewHub(reg)
		if err != nil {
			return serve.Options{}, fmt.Errorf("serve: monitor: %w", err)
		}
		opts.Registry, opts.Routes = reg, hub.Routes
		opts.GRPCServices = func(g *grpc.Server) {
			monitorpb.RegisterModelMonitorServiceServer(g, hub.FeedbackService())
		}
		opts.Observer = &serveMonitor{hub: hub, log: logger, models: map[[2]string]*monitor.Model{}}
	}
	return opts, nil
}

// newLogger makes the structured logger on stderr.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("serve: --log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, o)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, o)), nil
	}
	return nil, fmt.Errorf("serve: --log-format %q: want json or text", format)
}

// serveMonitor connects `shen serve --monitor` to package monitor: one
// monitor.Model per served version (its windows, drift, alerts), created
// when the version is loaded and closed when it is retired, fed every
// answered request. It is the serve.VersionObserver the server calls.
type serveMonitor struct {
	hub *monitor.Hub
	log *slog.Logger

	mu     sync.RWMutex
	models map[[2]string]*monitor.Model // {name, version}
}

func (s *serveMonitor) VersionLoaded(name, version string, m *model.Model, modelDir string) {
	cfg := monitor.DefaultConfig()
	if modelDir != "" {
		c, err := monitor.LoadConfig(modelDir)
		if err != nil {
			s.log.Error("monitoring config rejected; the version is monitored with the defaults", "model", name, "version", version, "err", err)
		} else {
			cfg = c
		}
	}
	mm, err := monitor.NewModel(name, version, m.Spec, m.Profile, cfg, monitor.Options{Logger: s.log})
	if err != nil {
		s.log.Error("the version cannot be monitored", "model", name, "version", version, "err", err)
		return
	}
	s.hub.Add(mm)
	s.mu.Lock()
	s.models[[2]string{name, version}] = mm
	s.mu.Unlock()
}

func (s *serveMonitor) VersionUnloaded(name, version string) {
	s.mu.Lock()
	delete(s.models, [2]string{name, version})
	s.mu.Unlock()
	s.hub.Remove(name, version)
}

// Observe hands an answered request to its version's monitor, which only
// queues it.
func (s *serveMonitor) Observe(o *serve.Observation) {
	s.mu.RLock()
	mm := s.models[[2]string{o.Model, o.Version}]
	s.mu.RUnlock()
	if mm == nil || o.Result == nil {
		return
	}
	mo := monitor.Observation{RequestID: o.RequestID, Time: o.Time.Add(-o.Latency), Latency: o.Latency, Rows: o.Rows(), Records: o.Records,
		Class: o.Result.Class, Values: o.Result.Values, Outputs: o.Result.Outputs}
	if o.Records == nil {
		mo.Inputs = o.Inputs
	}
	mm.Observe(mo)
}
