package tune

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// KatibOptions configure the Katib export.
type KatibOptions struct {
	// Name and Namespace of the Experiment (default: the config's file
	// name, "kubeflow").
	Name, Namespace string
	// Image is the Shen container image the trials run.
	Image string
	// DataPath, when set, is the data's path inside the container, given
	// to each trial as --set data.path=...
	DataPath string
}

// DefaultImage is the image a trial runs unless told otherwise.
const DefaultImage = "ghcr.io/shenml/shen:latest"

// The Katib v1beta1 Experiment, as far as the export fills it (field
// names and types from Katib's API, pkg/apis/controller/experiments/v1beta1
// and common/v1beta1).
type (
	katibExperiment struct {
		APIVersion string    `yaml:"apiVersion"`
		Kind       string    `yaml:"kind"`
		Metadata   katibMeta `yaml:"metadata"`
		Spec       katibSpec `yaml:"spec"`
	}
	katibMeta struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	}
	katibSpec struct {
		Objective            katibObjective     `yaml:"objective"`
		Algorithm            katibAlgorithm     `yaml:"algorithm"`
		EarlyStopping        *katibAlgorithm    `yaml:"earlyStopping,omitempty"`
		ParallelTrialCount   int                `yaml:"parallelTrialCount"`
		MaxTrialCount        int                `yaml:"maxTrialCount"`
		MaxFailedTrialCount  int                `yaml:"maxFailedTrialCount"`
		MetricsCollectorSpec katibCollectorSpec `yaml:"metricsCollectorSpec"`
		Parameters           []katibParameter   `yaml:"parameters"`
		TrialTemplate        katibTrialTemplate `yaml:"trialTemplate"`
	}
	katibObjective struct {
		Type                  string   `yaml:"type"`
		ObjectiveMetricName   string   `yaml:"objectiveMetricName"`
		AdditionalMetricNames []string `yaml:"additionalMetricNames,omitempty"`
	}
	katibAlgorithm struct {
		AlgorithmName     string         `yaml:"algorithmName"`
		AlgorithmSettings []katibSetting `yaml:"algorithmSettings,omitempty"`
	}
	katibSetting struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	}
	katibCollectorSpec struct {
		Collector struct {
			Kind string `yaml:"kind"`
		} `yaml:"collector"`
	}
	katibParameter struct {
		Name          string             `yaml:"name"`
		ParameterType string             `yaml:"parameterType"`
		FeasibleSpace katibFeasibleSpace `yaml:"feasibleSpace"`
	}
	katibFeasibleSpace struct {
		Min          string   `yaml:"min,omitempty"`
		Max          string   `yaml:"max,omitempty"`
		Step         string   `yaml:"step,omitempty"`
		List         []string `yaml:"list,omitempty"`
		Distribution string   `yaml:"distribution,omitempty"`
	}
	katibTrialTemplate struct {
		PrimaryContainerName string                `yaml:"primaryContainerName"`
		TrialParameters      []katibTrialParameter `yaml:"trialParameters"`
		TrialSpec            map[string]any        `yaml:"trialSpec"`
	}
	katibTrialParameter struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Reference   string `yaml:"reference"`
	}
)

// KatibParamName turns a config key into a Katib parameter name
// (train.optimizer.lr -> train-optimizer-lr): Katib substitutes
// ${trialParameters.NAME} in the trial template, so the name keeps to
// letters, digits and '-'.
func KatibParamName(key string) string { return nonName.ReplaceAllString(key, "-") }

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// configMountDir is where the trial's container sees the config.
const configMountDir = "/shen/config"

// Katib writes the study as Kubernetes manifests: a ConfigMap holding
// the config file and a kubeflow.org/v1beta1 Experiment with the same
// space (double, int and categorical feasible spaces), objective,
// algorithm (random, grid, tpe) and early stopping (medianstop), whose
// trials run `shen train --config ... --katib-metrics --set
// key=${trialParameters.name}` in the Shen image, reported through
// Katib's StdOut metrics collector. It returns the YAML and the parts of
// the study Katib cannot express (warnings).
func Katib(configFile string, sp *Spec, o KatibOptions) ([]byte, []string, error) {
	cfg, err := os.ReadFile(configFile)
	if err != nil {
		return nil, nil, err
	}
	base := filepath.Base(configFile)
	if o.Name == "" {
		o.Name = strings.ToLower(KatibParamName(strings.TrimSuffix(base, filepath.Ext(base))))
	}
	if o.Namespace == "" {
		o.Namespace = "kubeflow"
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	var warn []string
	goal := "minimize"
	if sp.Maximize {
		goal = "maximize"
	}
	e := katibExperiment{APIVersion: "kubeflow.org/v1beta1", Kind: "Experiment", Metadata: katibMeta{o.Name, o.Namespace}}
	s := &e.Spec
	s.Objective = katibObjective{Type: goal, ObjectiveMetricName: sp.Metric}
	if sp.Metric != "val_loss" {
		s.Objective.AdditionalMetricNames = []string{"val_loss"}
	}
	seed := strconv.FormatUint(sp.Seed, 10)
	s.Algorithm = katibAlgorithm{AlgorithmName: sp.Sampler}
	switch sp.Sampler {
	case "tpe":
		s.Algorithm.AlgorithmSettings = []katibSetting{{"random_state", seed}, {"n_EI_candidates", "24"}}
	default:
		s.Algorithm.AlgorithmSettings = []katibSetting{{"random_state", seed}}
	}
	switch sp.Pruner {
	case "median":
		s.EarlyStopping = &katibAlgorithm{AlgorithmName: "medianstop", AlgorithmSettings: []katibSetting{{"min_trials_required", "5"}, {"start_step", "1"}}}
	case "asha":
		s.EarlyStopping = &katibAlgorithm{AlgorithmName: "medianstop", AlgorithmSettings: []katibSetting{{"min_trials_required", "5"}, {"start_step", strconv.Itoa(sp.MinResource)}}}
		warn = append(warn, "Katib's early stopping has no successive halving: pruner asha is exported as medianstop")
	}
	if sp.Time > 0 {
		warn = append(warn, "Katib has no wall-time budget: time "+sp.Time.String()+" is left out")
	}
	s.ParallelTrialCount = sp.Parallel
	s.MaxTrialCount = sp.Trials
	if sp.Sampler == "grid" {
		if g := NewGrid(sp.Params, sp.Seed).Size(); s.MaxTrialCount == 0 || s.MaxTrialCount > g {
			s.MaxTrialCount = g
		}
	}
	if s.MaxTrialCount == 0 {
		return nil, nil, fmt.Errorf("tune: a Katib Experiment needs a trial count; set tune.trials")
	}
	s.MaxFailedTrialCount = s.MaxTrialCount // a failed trial never ends the study
	s.MetricsCollectorSpec.Collector.Kind = "StdOut"
	command := []any{"shen", "train", "--config", configMountDir + "/" + base, "--out", "/tmp/runs", "--katib-metrics"}
	if o.DataPath != "" {
		command = append(command, "--set", "data.path="+o.DataPath)
	}
	var sets []any
	s.Parameters, s.TrialTemplate.TrialParameters, sets = katibParameters(sp)
	command = append(command, sets...)
	s.TrialTemplate.PrimaryContainerName = "training-container"
	s.TrialTemplate.TrialSpec = map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"spec": map[string]any{
			"template": map[string]any{
				"spec": map[string]any{
					"restartPolicy": "Never",
					"containers": []any{map[string]any{
						"name":         "training-container",
						"image":        o.Image,
						"command":      command,
						"volumeMounts": []any{map[string]any{"name": "config", "mountPath": configMountDir}},
					}},
					"volumes": []any{map[string]any{"name": "config", "configMap": map[string]any{"name": o.Name + "-config"}}},
				},
			},
		},
	}
	cm := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": o.Name + "-config", "namespace": o.Namespace},
		"data":       map[string]any{base: string(cfg)},
	}
	var out bytes.Buffer
	out.WriteString("# Generated by shen tune export --format katib from " + configFile + ".\n")
	for _, w := range warn {
		out.WriteString("# note: " + w + "\n")
	}
	b, err := yaml.MarshalWithOptions(cm, yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, nil, err
	}
	out.Write(b)
	out.WriteString("---\n")
	if b, err = yaml.Marshal(e); err != nil {
		return nil, nil, err
	}
	out.Write(b)
	return out.Bytes(), warn, nil
}

// katibParameters translates the space: one Katib parameter (double,
// int or categorical feasible space) and one trial parameter per key,
// and the --set arguments that hand a trial's values to shen train.
func katibParameters(sp *Spec) (params []katibParameter, trial []katibTrialParameter, sets []any) {
	for _, p := range sp.Params {
		name := KatibParamName(p.Key)
		kp := katibParameter{Name: name}
		fs := &kp.FeasibleSpace
		switch p.Kind {
		case Categorical:
			kp.ParameterType = "categorical"
			for _, c := range p.Choices {
				fs.List = append(fs.List, yamlFlow(c))
			}
		case Int:
			kp.ParameterType = "int"
			fs.Min, fs.Max = strconv.FormatInt(int64(p.Low), 10), strconv.FormatInt(int64(p.High), 10)
			if p.Step != 1 {
				fs.Step = strconv.FormatInt(int64(p.Step), 10)
			}
		default:
			kp.ParameterType = "double"
			fs.Min, fs.Max = strconv.FormatFloat(p.Low, 'g', -1, 64), strconv.FormatFloat(p.High, 'g', -1, 64)
			if p.Step > 0 {
				fs.Step = strconv.FormatFloat(p.Step, 'g', -1, 64)
			}
		}
		if p.Log {
			fs.Distribution = "logUniform"
		} else if p.Kind != Categorical {
			fs.Distribution = "uniform"
		}
		params = append(params, kp)
		trial = append(trial, katibTrialParameter{Name: name, Description: "config key " + p.Key, Reference: name})
		sets = append(sets, "--set", p.Key+"=${trialParameters."+name+"}")
	}
	return params, trial, sets
}
