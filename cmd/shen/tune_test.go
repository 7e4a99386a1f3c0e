package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/tune"
)

// TestTuneIrisEndToEnd tunes the iris MLP of configs/ with the search
// space of configs/iris_space.yaml (16 TPE trials, two at once, ASHA),
// then scores the best artifact with shen evaluate.
func TestTuneIrisEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("16 trials: the full test run covers it")
	}
	dir := filepath.Join(t.TempDir(), "study")
	start := time.Now()
	out, err := run(t, "tune", "--config", "../../configs/iris.yaml", "--space", "../../configs/iris_space.yaml", "--out", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("16 trials in %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "trials 16/16") || !strings.Contains(out, "best: trial") {
		t.Fatalf("output:\n%s", out)
	}
	m, err := model.Load(filepath.Join(dir, "best", "model"))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Spec.Training.Metrics["val_loss"]; !(v < 0.3) {
		t.Errorf("best trial's val_loss %g", v)
	}
	ev, err := run(t, "evaluate", "--model", filepath.Join(dir, "best", "model"), "--data", "../../../shared/data/tabular/sklearn_iris.csv", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, ev)
	}
	var res struct{ Metrics map[string]float64 }
	if err := json.Unmarshal([]byte(ev), &res); err != nil {
		t.Fatalf("%v: %s", err, ev)
	}
	if res.Metrics["accuracy"] < 0.9 {
		t.Errorf("best model's accuracy on iris %g", res.Metrics["accuracy"])
	}
}

// Katib's v1beta1 Experiment, as its API documents it
// (pkg/apis/controller/experiments/v1beta1 and common/v1beta1): every
// field a manifest may hold, so a strict decode refuses any other.
type katibExperiment struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Parameters []struct {
			Name          string `yaml:"name"`
			ParameterType string `yaml:"parameterType"` // double, int, discrete, categorical
			FeasibleSpace struct {
				Max          string   `yaml:"max"`
				Min          string   `yaml:"min"`
				List         []string `yaml:"list"`
				Step         string   `yaml:"step"`
				Distribution string   `yaml:"distribution"` // uniform, logUniform, normal, logNormal
			} `yaml:"feasibleSpace"`
		} `yaml:"parameters"`
		Objective struct {
			Type                  string    `yaml:"type"` // minimize, maximize
			Goal                  *float64  `yaml:"goal"`
			ObjectiveMetricName   string    `yaml:"objectiveMetricName"`
			AdditionalMetricNames []string  `yaml:"additionalMetricNames"`
			MetricStrategies      []katibKV `yaml:"metricStrategies"`
		} `yaml:"objective"`
		Algorithm            katibAlgorithm  `yaml:"algorithm"`
		EarlyStopping        *katibAlgorithm `yaml:"earlyStopping"`
		TrialTemplate        katibTemplate   `yaml:"trialTemplate"`
		ParallelTrialCount   *int32          `yaml:"parallelTrialCount"`
		MaxTrialCount        *int32          `yaml:"maxTrialCount"`
		MaxFailedTrialCount  *int32          `yaml:"maxFailedTrialCount"`
		MetricsCollectorSpec *struct {
			Source    map[string]any `yaml:"source"`
			Collector *struct {
				Kind string `yaml:"kind"` // StdOut, File, TensorFlowEvent, PrometheusMetric, Custom, None
			} `yaml:"collector"`
		} `yaml:"metricsCollectorSpec"`
		NasConfig    map[string]any `yaml:"nasConfig"`
		ResumePolicy string         `yaml:"resumePolicy"`
	} `yaml:"spec"`
}

type katibKV struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type katibAlgorithm struct {
	AlgorithmName     string    `yaml:"algorithmName"`
	AlgorithmSettings []katibKV `yaml:"algorithmSettings"`
}

type katibTemplate struct {
	Retain          bool           `yaml:"retain"`
	TrialSpec       map[string]any `yaml:"trialSpec"`
	ConfigMap       map[string]any `yaml:"configMap"`
	TrialParameters []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Reference   string `yaml:"reference"`
	} `yaml:"trialParameters"`
	PrimaryPodLabels     map[string]string `yaml:"primaryPodLabels"`
	PrimaryContainerName string            `yaml:"primaryContainerName"`
	SuccessCondition     string            `yaml:"successCondition"`
	FailureCondition     string            `yaml:"failureCondition"`
}

// katibFilter is the default metrics filter of Katib's StdOut collector.
var katibFilter = regexp.MustCompile(`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`)

// TestTuneKatibExport exports the iris study as a Katib Experiment,
// checks it against Katib's schema, then runs the trial command it holds
// locally with parameter values substituted and reads the metrics back
// from its output with the collector's default regular expression.
func TestTuneKatibExport(t *testing.T) {
	out, err := run(t, "tune", "export", "--format", "katib", "--config", "../../configs/iris.yaml", "--space", "../../configs/iris_space.yaml", "--image", "shen:test")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "note: ") { // warnings, on stderr
			kept = append(kept, l)
		}
	}
	out = strings.Join(kept, "\n")
	docs := strings.Split(out, "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d YAML documents, want a ConfigMap and an Experiment:\n%s", len(docs), out)
	}
	var cm struct {
		APIVersion, Kind string
		Data             map[string]string
	}
	if err := yaml.Unmarshal([]byte(docs[0]), &cm); err != nil || cm.Kind != "ConfigMap" {
		t.Fatalf("ConfigMap: %v %+v", err, cm)
	}
	cfgText, _ := os.ReadFile("../../configs/iris.yaml")
	if cm.Data["iris.yaml"] != string(cfgText) {
		t.Errorf("the ConfigMap does not hold the config verbatim")
	}
	var e katibExperiment
	if err := yaml.UnmarshalWithOptions([]byte(docs[1]), &e, yaml.Strict()); err != nil {
		t.Fatalf("Experiment does not fit Katib's schema: %v", err)
	}
	s := e.Spec
	if e.APIVersion != "kubeflow.org/v1beta1" || e.Kind != "Experiment" || e.Metadata.Name != "iris" {
		t.Errorf("header %s %s %s", e.APIVersion, e.Kind, e.Metadata.Name)
	}
	if s.Objective.Type != "minimize" || s.Objective.ObjectiveMetricName != "val_loss" || s.Algorithm.AlgorithmName != "tpe" ||
		s.EarlyStopping == nil || s.EarlyStopping.AlgorithmName != "medianstop" || *s.ParallelTrialCount != 2 || *s.MaxTrialCount != 16 ||
		s.MetricsCollectorSpec.Collector.Kind != "StdOut" {
		t.Errorf("spec %+v", s)
	}
	types := map[string]string{}
	for _, p := range s.Parameters {
		types[p.Name] = p.ParameterType
		switch p.ParameterType {
		case "double", "int":
			for _, v := range []string{p.FeasibleSpace.Min, p.FeasibleSpace.Max} {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					t.Errorf("%s: bound %q is not a number", p.Name, v)
				}
			}
		case "categorical":
			if len(p.FeasibleSpace.List) == 0 {
				t.Errorf("%s: empty list", p.Name)
			}
		default:
			t.Errorf("%s: parameterType %q", p.Name, p.ParameterType)
		}
	}
	want := map[string]string{"train-optimizer-lr": "double", "train-batch-size": "categorical", "model-hidden": "categorical", "model-dropout": "double"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("parameter %s: type %q, want %q", k, types[k], v)
		}
	}
	// Katib's webhook: every trial parameter references a search parameter,
	// and the primary container exists.
	for _, tp := range s.TrialTemplate.TrialParameters {
		if types[tp.Reference] == "" {
			t.Errorf("trial parameter %s references unknown %q", tp.Name, tp.Reference)
		}
	}
	b, _ := yaml.Marshal(s.TrialTemplate.TrialSpec)
	var job struct {
		Kind string
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name    string
						Image   string
						Command []string
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &job); err != nil || job.Kind != "Job" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("trialSpec: %v\n%s", err, b)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if c.Name != s.TrialTemplate.PrimaryContainerName || c.Image != "shen:test" || c.Command[0] != "shen" || c.Command[1] != "train" {
		t.Fatalf("container %+v", c)
	}
	// Substitute values as Katib would and run the command here.
	values := map[string]string{}
	for _, p := range s.Parameters {
		switch p.ParameterType {
		case "categorical":
			values[p.Name] = p.FeasibleSpace.List[len(p.FeasibleSpace.List)-1]
		default:
			values[p.Name] = p.FeasibleSpace.Max
		}
	}
	runs := t.TempDir()
	var args []string
	for _, a := range c.Command[1:] {
		for k, v := range values {
			a = strings.ReplaceAll(a, "${trialParameters."+k+"}", v)
		}
		if strings.Contains(a, "${") {
			t.Fatalf("unsubstituted %q", a)
		}
		a = strings.Replace(a, "/shen/config/iris.yaml", "../../configs/iris.yaml", 1)
		a = strings.Replace(a, "/tmp/runs", runs, 1)
		args = append(args, a)
	}
	out, err = run(t, args...)
	if err != nil {
		t.Fatalf("shen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	seen := map[string][]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		for _, m := range katibFilter.FindAllStringSubmatch(sc.Text(), -1) {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Errorf("metric %s: value %q does not parse: %v", m[1], m[2], err)
			}
			seen[m[1]] = append(seen[m[1]], v)
		}
	}
	obj := seen[s.Objective.ObjectiveMetricName]
	epochs := seen["epoch"]
	if len(obj) == 0 || len(obj) != len(epochs) || !slices.IsSorted(epochs) {
		t.Fatalf("collector read %d %s values over %d epochs:\n%s", len(obj), s.Objective.ObjectiveMetricName, len(epochs), out)
	}
	for _, v := range obj {
		if !(v > 0 && v < 5) {
			t.Errorf("val_loss %g", v)
		}
	}
	if len(seen["val_accuracy"]) != len(epochs) {
		t.Errorf("val_accuracy read %d times over %d epochs", len(seen["val_accuracy"]), len(epochs))
	}
	// The values were applied: the run's artifact records them.
	m, err := model.Load(filepath.Join(runs, "iris", "model"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spec.Architecture.Hidden; !slices.Equal(got, []int{32, 16}) {
		t.Errorf("model.hidden %v, want the substituted [32, 16]", got)
	}
}

// TestTuneResumesAfterKill builds the shen binary, starts a study, kills
// it with SIGKILL in the middle of a trial, starts the same command again
// and checks that finished trials were not run again, the cut-off trial
// resumed from its checkpoint, nothing recorded was lost, and the trials
// and their values are those of a study that was never interrupted.
func TestTuneResumesAfterKill(t *testing.T) {
	if os.Getenv("SHEN_SLOW_TESTS") == "" {
		t.Skip("builds the binary and runs two studies (about a minute); set SHEN_SLOW_TESTS=1")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "shen")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	data, _ := filepath.Abs("../../../shared/data/tabular/sklearn_iris.csv")
	cfg := filepath.Join(tmp, "iris.yaml")
	os.WriteFile(cfg, []byte(`name: iris
data:
  path: `+data+`
  format: sklearn_csv
  split: {val: 0.2, test: 0.2, seed: 1}
model: {kind: mlp, hidden: [16, 16]}
train:
  epochs: 60
  batch_size: 8
  checkpoint_every: 5
  optimizer: {name: adam, lr: 0.01}
tune:
  trials: 5
  sampler: random
  seed: 7
  parameters:
    train.optimizer.lr: {space: loguniform, lower: 0.001, upper: 0.05}
    model.dropout: {space: uniform, lower: 0.0, upper: 0.2}
`), 0o644)
	study := filepath.Join(tmp, "study")
	cmd := exec.Command(bin, "tune", "--config", cfg, "--out", study)
	var out1 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out1, &out1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once trial 2 is a few epochs in.
	journal := filepath.Join(study, tune.JournalFile)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(journal)
		if bytes.Contains(b, []byte(`"event":"epoch","trial":2,`)) && bytes.Count(b, []byte(`"trial":2,`)) > 6 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("trial 2 did not start in time:\n%s\n%s", out1.String(), b)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	before, _ := os.ReadFile(journal)
	recs1, err := tune.ParseJournal("before", before)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs1 {
		if r.Event == tune.EventEnd && r.Trial >= 2 {
			t.Fatalf("trial %d ended before the kill; the kill came too late:\n%s", r.Trial, before)
		}
	}
	out2, err := exec.Command(bin, "tune", "--config", cfg, "--out", study).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out2)
	}
	if !strings.Contains(string(out2), "resuming") || !strings.Contains(string(out2), "2 trials finished, 1 cut off") {
		t.Errorf("resume output:\n%s", out2)
	}
	after, _ := os.ReadFile(journal)
	if !bytes.HasPrefix(after, before) {
		t.Fatal("the journal was rewritten, not appended to")
	}
	recs, err := tune.ParseJournal("after", after)
	if err != nil {
		t.Fatal(err)
	}
	starts, ends := map[int]int{}, map[int]int{}
	for _, r := range recs {
		switch r.Event {
		case tune.EventStart:
			starts[r.Trial]++
		case tune.EventEnd:
			ends[r.Trial]++
		}
	}
	for n := range 5 {
		if starts[n] != 1 || ends[n] != 1 {
			t.Errorf("trial %d: %d start and %d end records, want one each", n, starts[n], ends[n])
		}
	}
	log2, _ := os.ReadFile(filepath.Join(study, "trials", "2", "train.log"))
	if !bytes.Contains(log2, []byte("resuming from")) {
		t.Errorf("trial 2 did not resume from its checkpoint:\n%s", log2)
	}
	if _, err := os.Stat(filepath.Join(study, "best", "model", "model.json")); err != nil {
		t.Error(err)
	}
	// The same study, never interrupted, tries the same values and ends
	// each trial alike.
	ref := filepath.Join(tmp, "ref")
	if b, err := exec.Command(bin, "tune", "--config", cfg, "--out", ref).CombinedOutput(); err != nil {
		t.Fatalf("reference: %v\n%s", err, b)
	}
	refb, _ := os.ReadFile(filepath.Join(ref, tune.JournalFile))
	refRecs, _ := tune.ParseJournal("ref", refb)
	got, want := tune.Replay(recs), tune.Replay(refRecs)
	if len(got) != len(want) {
		t.Fatalf("%d trials, uninterrupted %d", len(got), len(want))
	}
	for i := range got {
		if !slices.Equal(got[i].Values, want[i].Values) || got[i].State != want[i].State || got[i].Value != want[i].Value || len(got[i].Steps) != len(want[i].Steps) {
			t.Errorf("trial %d: %v %s %g (%d epochs), uninterrupted %v %s %g (%d epochs)", i, got[i].Values, got[i].State, got[i].Value, len(got[i].Steps), want[i].Values, want[i].State, want[i].Value, len(want[i].Steps))
		}
	}
}
