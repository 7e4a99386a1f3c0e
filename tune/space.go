// Package tune searches a training config's hyperparameters: the search
// space (a `tune:` section named as in Ludwig's hyperopt), samplers
// (grid, random, TPE with Optuna's defaults), pruners (ASHA and the
// median rule on the per-epoch validation metric), a study that runs
// trials through package train inside the process, several at once, with
// an append-only journal that makes a killed study resume, the study
// report (study.html), and the export of the same study as a Katib
// Experiment. It drives train and is never imported by it.
package tune

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/shenml/shen/train"
)

// Kind is the type of a parameter's values.
type Kind int

// Parameter kinds.
const (
	Float Kind = iota
	Int
	Categorical
)

// Param is one searched config key and its space. Numbers are kept as
// float64 (an Int parameter holds whole numbers); a categorical
// parameter's value is the index of its choice.
type Param struct {
	// Key is the dotted config key the value is written to (--set KEY=...).
	Key string
	// Space is the space as written (uniform, loguniform, randint, ...).
	Space string
	Kind  Kind
	// Low and High bound the values, both included.
	Low, High float64
	// Step quantises the values (0: continuous; Int: at least 1).
	Step float64
	// Log samples log-uniformly.
	Log bool
	// Choices are the YAML values of a categorical parameter.
	Choices []any
}

// Spec is a study's search: the `tune:` section of a config or a --space file.
type Spec struct {
	// Metric is the validation metric optimised ("loss", "accuracy",
	// "rmse", ... or with the val_ prefix); default: the config's
	// early-stopping monitor, else val_loss.
	Metric string
	// Maximize is the goal (goal: maximize); default from the metric.
	Maximize bool
	// Trials is the number of trials (0: until Time runs out; a grid stops
	// when it is covered).
	Trials int
	// Time is the wall-time budget (0: none).
	Time time.Duration
	// Parallel is the number of trials run at once (default 1).
	Parallel int
	// Sampler is grid, random or tpe; Pruner none, asha or median.
	Sampler, Pruner string
	// Seed seeds the sampler (default 1).
	Seed uint64
	// MinResource and ReductionFactor configure ASHA (defaults 1 and 3).
	MinResource, ReductionFactor int
	// Params are the searched keys in the order written.
	Params []Param
	// File is where the spec was read from (for messages).
	File string

	goalSet bool           // goal was given (else it follows the metric)
	lines   map[string]int // dotted key -> line in File
	prefix  string         // "tune" in a config, "" in a --space file
}

// rawSpec is the YAML form of Spec.
type rawSpec struct {
	Metric          string        `yaml:"metric"`
	Goal            string        `yaml:"goal"`
	Trials          int           `yaml:"trials"`
	Time            string        `yaml:"time"`
	Parallel        int           `yaml:"parallel"`
	Sampler         string        `yaml:"sampler"`
	Pruner          string        `yaml:"pruner"`
	Seed            *uint64       `yaml:"seed"`
	MinResource     int           `yaml:"min_resource"`
	ReductionFactor int           `yaml:"reduction_factor"`
	Parameters      yaml.MapSlice `yaml:"parameters"`
}

// rawParam is one entry of parameters, with Ray Tune's (and so Ludwig's)
// names: lower, upper, q (or step), categories, values.
type rawParam struct {
	Space      string   `yaml:"space"`
	Lower      *float64 `yaml:"lower"`
	Upper      *float64 `yaml:"upper"`
	Q          float64  `yaml:"q"`
	Step       float64  `yaml:"step"`
	Categories []any    `yaml:"categories"`
	Values     []any    `yaml:"values"`
}

// SpaceError is a problem with the search space, at a key of its file:
// the same file:line: key: message form as a config error.
type SpaceError = train.ConfigError

// ReadSpec reads the search space: from spaceFile when given (a YAML file
// holding what a `tune:` section holds), else from the `tune:` section of
// the config file. It checks the space alone; Check validates it against
// the config.
func ReadSpec(configFile, spaceFile string) (*Spec, error) {
	file, prefix := configFile, "tune"
	if spaceFile != "" {
		file, prefix = spaceFile, ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	return ParseSpec(file, b, prefix)
}

// ParseSpec decodes a search space from YAML bytes: the mapping under the
// top-level key prefix ("tune"), or the whole document when prefix is "".
func ParseSpec(file string, b []byte, prefix string) (sp *Spec, err error) {
	defer func() {
		if r := recover(); r != nil { // go-yaml panics on some malformed input
			sp, err = nil, &SpaceError{File: file, Msg: fmt.Sprintf("cannot decode this YAML (%v)", r)}
		}
	}()
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, &SpaceError{File: file, Msg: err.Error()}
	}
	lines := map[string]int{}
	var body ast.Node
	if len(f.Docs) > 0 {
		body = f.Docs[0].Body
	}
	indexLines(body, "", lines)
	node := body
	if prefix != "" {
		node = childNode(body, prefix)
		if node == nil {
			return nil, &SpaceError{File: file, Msg: "has no " + prefix + ": section (give the search space there or with --space FILE)"}
		}
	}
	at := func(key string) string { return strings.TrimPrefix(prefix+"."+key, ".") }
	var raw rawSpec
	if err := yaml.NodeToValue(node, &raw, yaml.Strict()); err != nil {
		msg := err.Error()
		var ye yaml.Error
		line := 0
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
				if errors.As(err, new(*yaml.UnknownFieldError)) {
					return nil, &SpaceError{File: file, Line: line, Key: at(tk.Value), Msg: "unknown key (want metric, goal, trials, time, parallel, sampler, pruner, seed, min_resource, reduction_factor, parameters)"}
				}
			}
		}
		return nil, &SpaceError{File: file, Line: line, Key: prefix, Msg: msg}
	}
	errAt := func(key, format string, args ...any) error {
		return &SpaceError{File: file, Line: lines[at(key)], Key: at(key), Msg: fmt.Sprintf(format, args...)}
	}
	sp = &Spec{File: file, lines: lines, prefix: prefix, Metric: raw.Metric, Trials: raw.Trials, Parallel: raw.Parallel, Sampler: raw.Sampler, Pruner: raw.Pruner,
		MinResource: raw.MinResource, ReductionFactor: raw.ReductionFactor, Seed: 1}
	if raw.Seed != nil {
		sp.Seed = *raw.Seed
	}
	sp.goalSet = raw.Goal != ""
	switch raw.Goal {
	case "":
	case "minimize":
	case "maximize":
		sp.Maximize = true
	default:
		return nil, errAt("goal", "must be minimize or maximize, got %q", raw.Goal)
	}
	if raw.Time != "" {
		if sp.Time, err = time.ParseDuration(raw.Time); err != nil || sp.Time <= 0 {
			return nil, errAt("time", "must be a positive duration such as 90s, 10m or 1h, got %q", raw.Time)
		}
	}
	if sp.Trials < 0 {
		return nil, errAt("trials", "must be >= 0, got %d", sp.Trials)
	}
	if sp.Parallel == 0 {
		sp.Parallel = 1
	}
	if sp.Parallel < 0 {
		return nil, errAt("parallel", "must be positive, got %d", sp.Parallel)
	}
	if sp.Sampler == "" {
		sp.Sampler = "tpe"
	}
	if !slices.Contains([]string{"grid", "random", "tpe"}, sp.Sampler) {
		return nil, errAt("sampler", "must be grid, random or tpe, got %q", sp.Sampler)
	}
	if sp.Pruner == "" {
		sp.Pruner = "none"
	}
	if !slices.Contains([]string{"none", "asha", "median"}, sp.Pruner) {
		return nil, errAt("pruner", "must be none, asha or median, got %q", sp.Pruner)
	}
	if sp.MinResource == 0 {
		sp.MinResource = 1
	}
	if sp.ReductionFactor == 0 {
		sp.ReductionFactor = 3
	}
	if sp.MinResource < 1 || sp.ReductionFactor < 2 {
		return nil, errAt("reduction_factor", "min_resource must be >= 1 and reduction_factor >= 2, got %d and %d", sp.MinResource, sp.ReductionFactor)
	}
	if len(raw.Parameters) == 0 {
		return nil, errAt("parameters", "is empty; name at least one config key to search")
	}
	paramNodes := childNode(node, "parameters")
	for _, item := range raw.Parameters {
		key := fmt.Sprint(item.Key)
		p, err := parseParam(key, childNode(paramNodes, key))
		if err != nil {
			return nil, errAt("parameters."+key, "%v", err)
		}
		if slices.ContainsFunc(sp.Params, func(q Param) bool { return q.Key == key }) {
			return nil, errAt("parameters."+key, "is listed twice")
		}
		if sp.Sampler == "grid" && p.Kind == Float && p.Step == 0 {
			return nil, errAt("parameters."+key, "the grid sampler needs a finite set: give %s a step (q) or use choice/grid_search", p.Space)
		}
		sp.Params = append(sp.Params, p)
	}
	if sp.Trials == 0 && sp.Time == 0 && sp.Sampler != "grid" {
		return nil, errAt("trials", "give a budget: trials, time or both")
	}
	return sp, nil
}

// parseParam decodes one parameter's space from its YAML node (decoded
// straight from the source: a round trip through go-yaml's encoder would
// turn 1e-05 into a string).
func parseParam(key string, n ast.Node) (Param, error) {
	if n == nil {
		return Param{}, errors.New("needs a mapping {space: ..., ...}")
	}
	var r rawParam
	if err := yaml.NodeToValue(n, &r, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			return Param{}, fmt.Errorf("%s (want {space, lower, upper, q, categories, values})", ye.GetMessage())
		}
		return Param{}, err
	}
	p := Param{Key: key, Space: r.Space}
	if r.Q != 0 && r.Step != 0 && r.Q != r.Step {
		return p, errors.New("give q or step, not both")
	}
	q := max(r.Q, r.Step)
	if q < 0 {
		return p, fmt.Errorf("q must be positive, got %g", q)
	}
	numeric := true
	switch r.Space {
	case "choice", "grid_search":
		numeric = false
		p.Kind, p.Choices = Categorical, r.Categories
		if r.Space == "grid_search" {
			p.Choices = r.Values
		}
		if r.Space == "choice" && r.Values != nil || r.Space == "grid_search" && r.Categories != nil {
			return p, fmt.Errorf("%s takes %s", r.Space, map[bool]string{true: "categories", false: "values"}[r.Space == "choice"])
		}
		if len(p.Choices) == 0 {
			return p, fmt.Errorf("%s needs at least one value", r.Space)
		}
		if r.Lower != nil || r.Upper != nil || q != 0 {
			return p, fmt.Errorf("%s takes no lower, upper or q", r.Space)
		}
	case "uniform", "quniform", "loguniform", "qloguniform":
		p.Kind, p.Log, p.Step = Float, strings.Contains(r.Space, "log"), q
		if strings.HasPrefix(r.Space, "q") != (q != 0) {
			return p, fmt.Errorf("%s %s q", r.Space, map[bool]string{true: "needs", false: "takes no"}[strings.HasPrefix(r.Space, "q")])
		}
		if p.Log && q != 0 {
			return p, fmt.Errorf("%s: a quantised log range is not supported; use loguniform or choice", r.Space)
		}
	case "randint", "qrandint", "lograndint":
		p.Kind, p.Log, p.Step = Int, r.Space == "lograndint", max(q, 1)
		if q != 0 && r.Space != "qrandint" {
			return p, fmt.Errorf("%s takes no q (use qrandint)", r.Space)
		}
		if q != 0 && q != math.Trunc(q) {
			return p, fmt.Errorf("q must be a whole number for %s, got %g", r.Space, q)
		}
	case "":
		return p, errors.New("space is required (uniform, quniform, loguniform, randint, qrandint, lograndint, choice or grid_search)")
	default:
		return p, fmt.Errorf("unknown space %q (want uniform, quniform, loguniform, randint, qrandint, lograndint, choice or grid_search)", r.Space)
	}
	if !numeric {
		return p, nil
	}
	if r.Categories != nil || r.Values != nil {
		return p, fmt.Errorf("%s takes lower and upper, not categories or values", r.Space)
	}
	if r.Lower == nil || r.Upper == nil {
		return p, fmt.Errorf("%s needs lower and upper", r.Space)
	}
	p.Low, p.High = *r.Lower, *r.Upper
	if math.IsNaN(p.Low) || math.IsNaN(p.High) || math.IsInf(p.Low, 0) || math.IsInf(p.High, 0) {
		return p, errors.New("lower and upper must be finite")
	}
	if p.Kind == Int {
		if p.Low != math.Trunc(p.Low) || p.High != math.Trunc(p.High) {
			return p, fmt.Errorf("%s needs whole-number bounds, got [%g, %g]", r.Space, p.Low, p.High)
		}
		if r.Space != "qrandint" {
			// Ray Tune's randint and lograndint exclude upper; qrandint includes it.
			p.High--
		}
		if p.High < p.Low {
			return p, fmt.Errorf("empty range: %s [%g, %g) holds no integer", r.Space, *r.Lower, *r.Upper)
		}
		p.High = p.Low + math.Floor((p.High-p.Low)/p.Step)*p.Step
	} else if !(p.Low < p.High) {
		if p.Low == p.High {
			return p, fmt.Errorf("empty range: lower and upper are both %g", p.Low)
		}
		return p, fmt.Errorf("reversed range: lower %g is above upper %g", p.Low, p.High)
	}
	if p.Log && p.Low <= 0 {
		return p, fmt.Errorf("a log range must be above zero, got lower %g", p.Low)
	}
	if p.Kind == Float && p.Step != 0 {
		p.High = p.Low + math.Floor((p.High-p.Low)/p.Step+1e-9)*p.Step
	}
	return p, nil
}

// childNode returns the value of key in mapping n.
func childNode(n ast.Node, key string) ast.Node {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			if mv.Key.String() == key {
				return mv.Value
			}
		}
	case *ast.MappingValueNode:
		if v.Key.String() == key {
			return v.Value
		}
	}
	return nil
}

// indexLines records the line of every mapping key under its dotted path.
func indexLines(n ast.Node, path string, lines map[string]int) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			indexLines(mv, path, lines)
		}
	case *ast.MappingValueNode:
		k := strings.TrimPrefix(path+"."+v.Key.String(), ".")
		if tk := v.Key.GetToken(); tk != nil && tk.Position != nil {
			lines[k] = tk.Position.Line
		}
		indexLines(v.Value, k, lines)
	}
}

// ValueString writes a parameter value as --set takes it: numbers plainly,
// choices as flow YAML ([64, 32], {name: sgd}, "text").
func (p *Param) ValueString(v float64) string {
	switch p.Kind {
	case Int:
		return strconv.FormatInt(int64(v), 10)
	case Categorical:
		return yamlFlow(p.Choices[int(v)])
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// External returns the value as the config receives it (for journals and
// reports): a number, or the choice itself.
func (p *Param) External(v float64) any {
	switch p.Kind {
	case Int:
		return int64(v)
	case Categorical:
		return p.Choices[int(v)]
	}
	return v
}

// yamlFlow encodes v as one line of flow YAML that reads back as the
// same value: floats always carry a '.' (go-yaml writes 1e-05, which YAML
// reads back as a string), maps have their keys sorted.
func yamlFlow(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return ".nan"
		case math.IsInf(x, 1):
			return ".inf"
		case math.IsInf(x, -1):
			return "-.inf"
		}
		f := strconv.FormatFloat(x, 'g', -1, 64)
		if mant, exp, ok := strings.Cut(f, "e"); ok && !strings.Contains(mant, ".") {
			return mant + ".0e" + exp
		}
		if !strings.ContainsAny(f, ".e") {
			f += ".0"
		}
		return f
	case string:
		b, err := yaml.Marshal(x)
		if err != nil {
			return strconv.Quote(x)
		}
		return strings.TrimSpace(string(b))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = yamlFlow(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = yamlFlow(k) + ": " + yamlFlow(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yaml.MapSlice:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = yamlFlow(it.Key) + ": " + yamlFlow(it.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	b, err := yaml.MarshalWithOptions(v, yaml.Flow(true))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

// Sets returns the --set overrides that give a trial its values.
func (s *Spec) Sets(values []float64) []string {
	out := make([]string, len(s.Params))
	for i := range s.Params {
		out[i] = s.Params[i].Key + "=" + s.Params[i].ValueString(values[i])
	}
	return out
}

// Check validates the space against the training config: every key must
// exist, and every choice and both ends of every range must give a config
// that passes train's validation. It also fills the metric and goal
// defaults. The error names the parameter at fault.
func (s *Spec) Check(configFile string) error {
	base, err := train.LoadConfig(configFile)
	if err != nil {
		return err
	}
	if s.Metric == "" {
		s.Metric = base.Train.EarlyStopping.Monitor
		if s.Metric == "" {
			s.Metric = "val_loss"
		}
	} else if !strings.HasPrefix(s.Metric, "val_") {
		s.Metric = "val_" + s.Metric
	}
	if !s.goalSet {
		s.Maximize = !lowerIsBetter(s.Metric)
	}
	if known := taskMetrics[base.Task]; !slices.Contains(known, strings.TrimPrefix(s.Metric, "val_")) {
		return &SpaceError{File: s.File, Line: s.lines[strings.TrimPrefix(s.prefix+".metric", ".")], Key: strings.TrimPrefix(s.prefix+".metric", "."), Msg: fmt.Sprintf("%q is not a validation metric of a %s run (want one of %s)", s.Metric, base.Task, strings.Join(known, ", "))}
	}
	if base.Data.Split.Val == nil || *base.Data.Split.Val == 0 {
		return &SpaceError{File: s.File, Key: "tune.metric", Msg: "tuning scores trials on the validation split; set data.split.val > 0"}
	}
	prefix := strings.TrimPrefix(s.prefix+".parameters.", ".")
	for i := range s.Params {
		p := &s.Params[i]
		var probes []float64
		switch p.Kind {
		case Categorical:
			for c := range p.Choices {
				probes = append(probes, float64(c))
			}
		default:
			probes = []float64{p.Low, p.High}
		}
		for _, v := range probes {
			set := p.Key + "=" + p.ValueString(v)
			if _, err := train.LoadConfigWith(configFile, []string{set}); err != nil {
				what := "value " + p.ValueString(v)
				if p.Kind != Categorical {
					what = "bound " + p.ValueString(v)
				}
				return &SpaceError{File: s.File, Line: s.lines[prefix+p.Key], Key: prefix + p.Key, Msg: fmt.Sprintf("%s fails the config's validation: %v", what, err)}
			}
		}
	}
	return nil
}

// taskMetrics are the validation metrics a run of each task reports.
var taskMetrics = map[string][]string{
	train.Classification: {"loss", "accuracy", "macro_f1", "macro_precision", "macro_recall", "weighted_f1", "weighted_precision", "weighted_recall", "log_loss", "roc_auc"},
	train.Regression:     {"loss", "mae", "mse", "rmse", "r2"},
	train.LanguageModel:  {"loss"},
}

// lowerIsBetter reports whether a validation metric improves downwards.
func lowerIsBetter(metric string) bool {
	switch strings.TrimPrefix(metric, "val_") {
	case "loss", "log_loss", "mae", "mse", "rmse":
		return true
	}
	return false
}
