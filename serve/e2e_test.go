package serve

// Tests that meet the server as users do: the real `shen` binary, started
// on loopback with free ports, driven over HTTP, gRPC and grpcurl.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shenml/shen/serve/inference"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// shenBinary builds cmd/shen once per test run.
func shenBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shen-serve-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "shen")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/shenml/shen/cmd/shen").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("building shen: %v", binErr)
	}
	return binPath
}

// process is a running `shen serve`.
type process struct {
	cmd            *exec.Cmd
	http, grpc     string
	mu             sync.Mutex
	logs           []map[string]any
	exited         chan error
	listening      chan struct{}
	listeningClose sync.Once
}

// startBinary runs `shen serve args...` on free loopback ports and waits
// for it to listen.
func startBinary(t *testing.T, args ...string) *process {
	t.Helper()
	args = append([]string{"serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--log-level", "debug"}, args...)
	cmd := exec.Command(shenBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exited: make(chan error, 1), listening: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			p.mu.Lock()
			p.logs = append(p.logs, m)
			if m["msg"] == "listening" {
				p.http, _ = m["http"].(string)
				p.grpc, _ = m["grpc"].(string)
				p.listeningClose.Do(func() { close(p.listening) })
			}
			p.mu.Unlock()
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case <-p.listening:
	case err := <-p.exited:
		t.Fatalf("shen serve exited before listening: %v; logs %v", err, p.logs)
	case <-time.After(30 * time.Second):
		t.Fatal("shen serve did not listen within 30 s")
	}
	return p
}

// logged reports whether a log line with this message was written.
func (p *process) logged(msg string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

func TestBinaryRepositoryHTTPAndGRPC(t *testing.T) {
	root := t.TempDir()
	copyArtifact(t, trainedIris(t), filepath.Join(root, "iris", "1"))
	writeFile(t, filepath.Join(root, "iris", "config.yaml"), "max_batch_size: 8\ndynamic_batching: {max_queue_delay_microseconds: 100}\ninstance_group: [{count: 2}]\n")
	p := startBinary(t, "--model-repository", root)
	url := "http://" + p.http
	waitReady(t, url)
	status, resp, hdr := call(t, "POST", url+"/v2/models/iris/infer", `{"id":"e2e","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"label"}]}`,
		map[string]string{"X-Request-Id": "abc"})
	if status != 200 || resp["id"] != "e2e" || hdr.Get("X-Request-Id") != "abc" {
		t.Fatalf("%d %v %v", status, resp, hdr)
	}
	conn := dialGRPC(t, p.grpc)
	r, err := inference.NewGRPCInferenceServiceClient(conn).ModelInfer(context.Background(), &inference.ModelInferRequest{ModelName: "iris",
		Inputs:  []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &inference.InferTensorContents{Fp32Contents: []float32{5.1, 3.5, 1.4, 0.2}}}},
		Outputs: []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}}})
	if err != nil || string(r.Outputs[0].Contents.BytesContents[0]) != resp["outputs"].([]any)[0].(map[string]any)["data"].([]any)[0] {
		t.Fatalf("gRPC: %v %v; HTTP said %v", r, err, resp)
	}
	if !p.logged("http request") || !p.logged("model version loaded") {
		t.Errorf("structured logs lack request or load lines: %v", p.logs)
	}
}

// TestBinaryShutdownDrains sends SIGTERM while requests wait in a batch
// queue: every one of them is answered, then the process exits 0 well
// within --shutdown-timeout and stops accepting.
func TestBinaryShutdownDrains(t *testing.T) {
	root := t.TempDir()
	copyArtifact(t, trainedIris(t), filepath.Join(root, "iris", "1"))
	// Requests wait up to 400 ms for company, so some are in flight at SIGTERM.
	writeFile(t, filepath.Join(root, "iris", "config.yaml"), "max_batch_size: 64\ndynamic_batching: {max_queue_delay_microseconds: 400000}\n")
	p := startBinary(t, "--model-repository", root, "--shutdown-timeout", "10s")
	url := "http://" + p.http
	waitReady(t, url)
	const n = 6
	results := make(chan error, n)
	for range n {
		go func() {
			_, _, _, err := infer(http.DefaultClient, url, irisRows)
			results <- err
		}()
	}
	time.Sleep(150 * time.Millisecond)
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-results; err != nil {
			t.Errorf("a request in flight at SIGTERM failed: %v", err)
		}
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shen serve did not exit within 10 s of SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(start))
	if _, err := net.DialTimeout("tcp", p.http, time.Second); err == nil {
		t.Error("the HTTP port still accepts connections after exit")
	}
	if !p.logged("shutting down: not ready, draining requests in flight") || !p.logged("stopped") {
		t.Errorf("shutdown not logged: %v", p.logs)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shen test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestBinaryTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "t0ken\n")
	p := startBinary(t, "--model", trainedIris(t), "--model-name", "iris", "--tls-cert", certFile, "--tls-key", keyFile, "--auth-token-file", tokenFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	url := "https://" + p.http
	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(10 * time.Second); get("/v2/health/ready", "") != 200; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
	}
	if s := get("/v2/models/iris", ""); s != 401 {
		t.Errorf("metadata without a token: %d", s)
	}
	if s := get("/v2/models/iris", "wrong"); s != 401 {
		t.Errorf("metadata with a wrong token: %d", s)
	}
	if s := get("/v2/models/iris", "t0ken"); s != 200 {
		t.Errorf("metadata with the token: %d", s)
	}
	if _, err := http.Get("http://" + p.http + "/v2/health/live"); err == nil {
		// A plain HTTP request to a TLS port gets a 400 from net/http, not data.
		resp, _ := http.Get("http://" + p.http + "/v2/health/live")
		if resp != nil && resp.StatusCode == 200 {
			t.Error("plain HTTP was served on the TLS port")
		}
	}
	conn := dialGRPC(t, p.grpc, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	c := inference.NewGRPCInferenceServiceClient(conn)
	if _, err := c.ServerMetadata(context.Background(), &inference.ServerMetadataRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without a token: %v", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer t0ken")
	if r, err := c.ServerMetadata(ctx, &inference.ServerMetadataRequest{}); err != nil || r.Name != "shen" {
		t.Errorf("gRPC with the token over TLS: %v %v", r, err)
	}
}

func TestBinaryBadArguments(t *testing.T) {
	bin := shenBinary(t)
	cases := map[string][]string{
		"give --model-repository":      {"serve"},
		"no such file":                 {"serve", "--model-repository", "/does/not/exist"},
		"is not a port":                {"serve", "--model", ".", "--http-port", "70000"},
		"--log-format":                 {"serve", "--model", ".", "--log-format", "xml"},
		"failed to load":               {"serve", "--model", ".", "--http-port", "0", "--grpc-port", "0"},
		"TLS needs both a certificate": {"serve", "--model", ".", "--tls-cert", "x.pem"},
	}
	for says, args := range cases {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), says) && !(says == "failed to load" && strings.Contains(string(out), "model.json")) {
			t.Errorf("shen %s: %v, output %s; want a failure naming %q", strings.Join(args, " "), err, out, says)
		}
	}
}

// grpcurlPath finds grpcurl on PATH or in GOPATH/bin (.ci/run installs it).
func grpcurlPath() string {
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "grpcurl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestGrpcurlThroughReflection drives the server with grpcurl, which knows
// the service only through reflection.
func TestGrpcurlThroughReflection(t *testing.T) {
	gc := grpcurlPath()
	if gc == "" {
		t.Skip("grpcurl is not installed (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4); .ci/run installs it")
	}
	p := startBinary(t, "--model", trainedIris(t), "--model-name", "iris")
	waitReady(t, "http://"+p.http)
	run := func(args ...string) string {
		out, err := exec.Command(gc, append([]string{"-plaintext", "-max-time", "10"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run(p.grpc, "list"); !strings.Contains(out, "inference.GRPCInferenceService") || !strings.Contains(out, "grpc.health.v1.Health") {
		t.Errorf("grpcurl list: %s", out)
	}
	out := run("-d", `{"model_name":"iris","inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"contents":{"fp32_contents":[5.1,3.5,1.4,0.2]}}],"outputs":[{"name":"label"}]}`,
		p.grpc, "inference.GRPCInferenceService/ModelInfer")
	var resp struct {
		ModelName string `json:"modelName"`
		Outputs   []struct {
			Contents struct {
				BytesContents []string `json:"bytesContents"`
			} `json:"contents"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.ModelName != "iris" || len(resp.Outputs) != 1 || len(resp.Outputs[0].Contents.BytesContents) != 1 {
		t.Errorf("grpcurl ModelInfer: %v\n%s", err, out)
	}
	if out := run("-d", `{"service":""}`, p.grpc, "grpc.health.v1.Health/Check"); !strings.Contains(out, "SERVING") {
		t.Errorf("grpcurl health: %s", out)
	}
}

// TestBinaryVersionSwapOverGRPC publishes version 2 into the repository of
// a running `shen serve` while gRPC clients keep calling: version 2 takes
// over and no call fails.
func TestBinaryVersionSwapOverGRPC(t *testing.T) {
	root, _ := repoWith(t, "iris", "max_batch_size: 16\ndynamic_batching: {max_queue_delay_microseconds: 100}\n", 1)
	p := startBinary(t, "--model-repository", root, "--poll-interval", "50ms", "--log-level", "info")
	waitReady(t, "http://"+p.http)
	c := inference.NewGRPCInferenceServiceClient(dialGRPC(t, p.grpc))
	req := &inference.ModelInferRequest{ModelName: "iris",
		Inputs:  []*inference.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &inference.InferTensorContents{Fp32Contents: irisRows[:4]}}},
		Outputs: []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "output"}}}
	var mu sync.Mutex
	byVersion := map[string]int{}
	var failures []error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				r, err := c.ModelInfer(ctx, req)
				cancel()
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					byVersion[r.ModelVersion]++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	saveMLP(t, filepath.Join(root, ".v2"), 2)
	if err := os.Rename(filepath.Join(root, ".v2"), filepath.Join(root, "iris", "2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "version 2 to answer", func() bool { mu.Lock(); defer mu.Unlock(); return byVersion["2"] > 20 })
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d calls failed during the swap, first: %v", len(failures), failures[0])
	}
	if byVersion["1"] == 0 {
		t.Errorf("answers by version: %v", byVersion)
	}
	t.Logf("answers by version: %v", byVersion)
}

// TestBinaryMonitor runs `shen serve --monitor`: answered requests reach
// the version's monitor, ground truth joins them through the feedback
// endpoint, alerts, the snapshot and the dashboard are served beside V2,
// and /metrics holds both the server's and the monitor's series.
func TestBinaryMonitor(t *testing.T) {
	root := t.TempDir()
	copyArtifact(t, trainedIris(t), filepath.Join(root, "iris", "1"))
	writeFile(t, filepath.Join(root, "iris", "config.yaml"), "max_batch_size: 8\nmonitoring: {}\n")
	p := startBinary(t, "--model-repository", root, "--monitor")
	url := "http://" + p.http
	waitReady(t, url)
	status, resp, _ := call(t, "POST", url+"/v1/models/iris:predict", `{"instances":[{"f0":5.1,"f1":3.5,"f2":1.4,"f3":0.2}]}`, map[string]string{"X-Request-Id": "mon-1"})
	if status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	label := resp["predictions"].([]any)[0].(map[string]any)["label"]
	var joined float64
	for deadline := time.Now().Add(10 * time.Second); joined != 1 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, fb, _ := call(t, "POST", url+"/v2/models/iris/feedback", `{"request_id":"mon-1","labels":["`+label.(string)+`"]}`, nil)
		joined, _ = fb["joined"].(float64)
	}
	if joined != 1 {
		t.Fatalf("feedback for the answered request never joined")
	}
	for _, path := range []string{"/v2/models/iris/alerts", "/v2/models/iris/monitor", "/monitor/api/models", "/"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	resp2, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !strings.Contains(string(b), "shen_inference_requests_total") || !strings.Contains(string(b), "shen_monitor") {
		t.Errorf("/metrics lacks the server's or the monitor's series")
	}
}
