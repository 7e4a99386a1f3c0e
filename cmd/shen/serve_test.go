package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// manifest is the part of a Kubernetes object these tests read.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		SupportedModelFormats []struct {
			Name string `yaml:"name"`
		} `yaml:"supportedModelFormats"`
		Containers []container `yaml:"containers"`
		Predictor  struct {
			Model struct {
				ModelFormat struct {
					Name string `yaml:"name"`
				} `yaml:"modelFormat"`
				Runtime         string `yaml:"runtime"`
				ProtocolVersion string `yaml:"protocolVersion"`
				StorageURI      string `yaml:"storageUri"`
				Ports           []struct {
					Name          string `yaml:"name"`
					ContainerPort int    `yaml:"containerPort"`
				} `yaml:"ports"`
			} `yaml:"model"`
		} `yaml:"predictor"`
	} `yaml:"spec"`
}

type container struct {
	Args           []string `yaml:"args"`
	LivenessProbe  probe    `yaml:"livenessProbe"`
	ReadinessProbe probe    `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

func readManifest(t *testing.T, name string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kserve", name))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// serveArgs parses `shen serve` arguments as the binary does, with
// /mnt/models standing for a real artifact folder, and returns the
// resolved listen addresses and model.
func serveArgs(t *testing.T, args []string) (httpAddr, grpcAddr, modelDir, name string) {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("args %v do not start with the serve command", args)
	}
	mnt := t.TempDir()
	var rewritten []string
	for _, a := range args[1:] {
		rewritten = append(rewritten, strings.ReplaceAll(strings.ReplaceAll(a, "/mnt/models", mnt), "{{.Name}}", "iris"))
	}
	c, f := newServeCmd()
	if err := c.ParseFlags(rewritten); err != nil {
		t.Fatalf("shen serve rejects %v: %v", args[1:], err)
	}
	if rest := c.Flags().Args(); len(rest) > 0 {
		t.Fatalf("shen serve leaves arguments %v unread", rest)
	}
	opts, err := f.options()
	if err != nil {
		t.Fatalf("shen serve %v: %v", args[1:], err)
	}
	dir := opts.Model + opts.ModelRepository
	return opts.HTTPAddr, opts.GRPCAddr, strings.Replace(dir, mnt, "/mnt/models", 1), opts.ModelName
}

// TestKServeManifests checks the runtime and InferenceServices against the
// binary: the arguments parse, the ports are KServe's 8080 and 9000, the
// probes hit the health endpoints on the HTTP port, and the examples use
// the runtime and format it declares.
func TestKServeManifests(t *testing.T) {
	rt := readManifest(t, "servingruntime.yaml")
	if rt.Kind != "ClusterServingRuntime" || rt.APIVersion != "serving.kserve.io/v1alpha1" || len(rt.Spec.Containers) != 1 {
		t.Fatalf("runtime: %+v", rt)
	}
	if len(rt.Spec.SupportedModelFormats) == 0 || rt.Spec.SupportedModelFormats[0].Name != "shen" {
		t.Errorf("runtime formats %+v", rt.Spec.SupportedModelFormats)
	}
	ctr := rt.Spec.Containers[0]
	httpAddr, grpcAddr, dir, name := serveArgs(t, ctr.Args)
	if httpAddr != "0.0.0.0:8080" || grpcAddr != "0.0.0.0:9000" || dir != "/mnt/models" || name != "iris" {
		t.Errorf("runtime args give HTTP %s, gRPC %s, model %s named %s; KServe expects 0.0.0.0:8080, 0.0.0.0:9000, /mnt/models, the service's name", httpAddr, grpcAddr, dir, name)
	}
	for _, p := range []struct {
		probe probe
		path  string
	}{{ctr.LivenessProbe, "/v2/health/live"}, {ctr.ReadinessProbe, "/v2/health/ready"}} {
		if p.probe.HTTPGet.Path != p.path || ":"+strconv.Itoa(p.probe.HTTPGet.Port) != httpAddr[strings.LastIndexByte(httpAddr, ':'):] {
			t.Errorf("probe %+v, want %s on the HTTP port %s", p.probe.HTTPGet, p.path, httpAddr)
		}
	}
	for _, f := range []string{"inferenceservice.yaml", "inferenceservice-grpc.yaml"} {
		is := readManifest(t, f)
		m := is.Spec.Predictor.Model
		if is.Kind != "InferenceService" || m.Runtime != rt.Metadata.Name || m.ModelFormat.Name != "shen" || m.StorageURI == "" {
			t.Errorf("%s: %+v", f, is)
		}
		if m.ProtocolVersion == "grpc-v2" && (len(m.Ports) != 1 || m.Ports[0].Name != "h2c" || ":"+strconv.Itoa(m.Ports[0].ContainerPort) != grpcAddr[strings.LastIndexByte(grpcAddr, ':'):]) {
			t.Errorf("%s: gRPC port %+v, the runtime serves gRPC on %s", f, m.Ports, grpcAddr)
		}
	}
}

// TestDockerfileCommand checks the image's default command parses and
// serves /mnt/models on KServe's ports.
func TestDockerfileCommand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Dockerfile has no exec-form CMD")
	}
	var args []string
	if err := json.Unmarshal(m[1], &args); err != nil {
		t.Fatal(err)
	}
	httpAddr, grpcAddr, dir, _ := serveArgs(t, args)
	if httpAddr != "0.0.0.0:8080" || grpcAddr != "0.0.0.0:9000" || dir != "/mnt/models" {
		t.Errorf("CMD gives %s %s %s", httpAddr, grpcAddr, dir)
	}
	for _, want := range []string{"CGO_ENABLED=0", "distroless/static", "USER 65532"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}
