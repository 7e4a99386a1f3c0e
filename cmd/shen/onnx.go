package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/internal/safeio"
	"github.com/shenml/shen/model"
	"github.com/shenml/shen/onnx"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
)

// onnxCmd groups the ONNX tools: `shen onnx check DIR`.
func onnxCmd() *cobra.Command {
	c := &cobra.Command{Use: "onnx", Short: "ONNX tools: check a model against stored outputs"}
	var rtol, atol float64
	check := &cobra.Command{
		Use:   "check DIR",
		Short: "Run DIR/model.onnx on DIR/test_data_set_*/input_*.pb and compare with output_*.pb",
		Long: `check runs a folder in the ONNX test layout, as the ONNX conformance suite
and onnx.backend.test write it, and prints for each data set and output
whether it passed and its largest absolute and relative errors. A value
passes when |got - want| <= atol + rtol*|want| (the suite's defaults);
integer and boolean outputs must match exactly. The exit status is 1 when
any output fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := onnx.CheckDir(args[0], onnx.Tolerance{Rtol: rtol, Atol: atol}, onnx.Limits{})
			if err != nil {
				return err
			}
			res.WriteReport(cmd.OutOrStdout())
			if !res.Passed() {
				return fmt.Errorf("onnx check: %s: outputs differ from the stored ones", args[0])
			}
			return nil
		},
	}
	check.Flags().Float64Var(&rtol, "rtol", onnx.BackendTolerance.Rtol, "relative tolerance")
	check.Flags().Float64Var(&atol, "atol", onnx.BackendTolerance.Atol, "absolute tolerance")
	c.AddCommand(check)
	return c
}

// importCmd is `shen import --onnx FILE --out DIR`.
func importCmd() *cobra.Command {
	var src, out, name, task, labels, prep string
	var shape []int
	c := &cobra.Command{
		Use:   "import",
		Short: "Make a servable Shen artifact from an ONNX model",
		Long: `import checks that Shen can run the ONNX file (every operator known at the
model's opset) and writes an artifact folder: the file as model.onnx and a
model.json with the signature read from the graph, the task and the class
labels given here (a classifier without --labels gets "0", "1", ...).
predict, evaluate and serve load it like any artifact; they also load a
folder holding nothing but a model.onnx that way, with default options.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if src == "" || out == "" {
				return fmt.Errorf("import: --onnx and --out are required")
			}
			opt := onnx.ImportOptions{Name: name, Task: task, InputShape: shape}
			if labels != "" {
				opt.Labels = strings.Split(labels, ",")
			}
			if prep != "" {
				p, err := data.LoadPipeline(prep)
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				opt.Preprocessing = p
			}
			m, err := onnx.Import(src, out, opt)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			s := m.Spec.Signature
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s into %s: input %s %v, output %s %v\n", src, out,
				s.Inputs[0].Name, s.Inputs[0].Shape, s.Outputs[0].Name, s.Outputs[0].Shape)
			return nil
		},
	}
	c.Flags().StringVar(&src, "onnx", "", "ONNX model file")
	c.Flags().StringVar(&out, "out", "", "artifact folder to write")
	c.Flags().StringVar(&name, "name", "", "model name (default: the graph's name)")
	c.Flags().StringVar(&task, "task", "", "classification or regression (default: classification when the output has 2 or more values)")
	c.Flags().StringVar(&prep, "preprocessing", "", "fitted pipeline JSON (data.Pipeline.Save) whose features the model takes: the artifact then takes raw columns")
	c.Flags().IntSliceVar(&shape, "input-shape", nil, "per-sample input shape, where the graph leaves sizes other than the batch dynamic (e.g. 32,16)")
	c.Flags().StringVar(&labels, "labels", "", "comma-separated class names, in output order")
	return c
}

// inspectONNX prints an ONNX file's inputs, outputs, opset and operator
// counts (for `shen inspect --model FILE.onnx`).
func inspectONNX(w io.Writer, path string, asJSON bool) error {
	mp, err := onnx.ReadFile(path, onnx.Limits{})
	if err != nil {
		return err
	}
	m, err := onnx.Compile(mp, onnx.Limits{})
	if err != nil {
		return err
	}
	ops := map[string]int{}
	for _, n := range mp.Graph.Node {
		ops[n.GetOpType()]++
	}
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(map[string]any{"file": path, "opset": m.Opset, "producer": mp.GetProducerName(),
			"inputs": m.Inputs, "outputs": m.Outputs, "operators": ops, "planned": m.OpCounts()})
	}
	fmt.Fprintf(w, "onnx model   %s\n", path)
	fmt.Fprintf(w, "producer     %s %s\n", mp.GetProducerName(), mp.GetProducerVersion())
	fmt.Fprintf(w, "opset        %d (ir version %d)\n", m.Opset, mp.GetIrVersion())
	for _, v := range m.Inputs {
		fmt.Fprintf(w, "input        %-20s %s %s\n", v.Name, v.DType, dimsString(v))
	}
	for _, v := range m.Outputs {
		fmt.Fprintf(w, "output       %-20s %s %s\n", v.Name, v.DType, dimsString(v))
	}
	fmt.Fprintf(w, "operators    %d nodes (%d after folding and fusion)\n", len(mp.Graph.Node), total(m.OpCounts()))
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, op := range names {
		fmt.Fprintf(w, "  %-24s %d\n", op, ops[op])
	}
	return nil
}

func dimsString(v onnx.ValueInfo) string {
	parts := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		switch {
		case d >= 0:
			parts[i] = fmt.Sprint(d)
		case v.DimNames[i] != "":
			parts[i] = v.DimNames[i]
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func total(c map[string]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// exportCmd is `shen export --model DIR --format onnx --out FILE [--opset 17]`.
func exportCmd() *cobra.Command {
	var dir, format, out string
	var opset int
	var prep bool
	c := &cobra.Command{
		Use:   "export",
		Short: "Write a Shen artifact's network as ONNX",
		Long: `export writes the network of the artifact in --model as an ONNX file that
ONNX Runtime and other ONNX tools run: opset 17 by default, 14 (PyTorch
1.13's default) on request, with a dynamic batch dimension and the input
and output named as in the artifact's signature. Weights are copied bit for
bit. A table model's fitted preprocessing is part of the graph (one input
per raw column: scaling, clipping, log1p and imputation as standard
operators, one-hot and ordinal codes with ai.onnx.ml encoders) unless
--preprocessing=false. An artifact imported from ONNX is written back
unchanged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || out == "" {
				return fmt.Errorf("export: --model and --out are required")
			}
			if format != "onnx" {
				return fmt.Errorf("export: --format %q is not supported (onnx is)", format)
			}
			m, err := model.Load(dir)
			if err != nil {
				return err
			}
			mp, err := onnx.Export(m, onnx.ExportOptions{Opset: opset, Preprocessing: prep})
			if err != nil {
				return fmt.Errorf("export: %s: %w", dir, err)
			}
			raw, err := proto.Marshal(mp)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := safeio.WriteFileAtomic(out, raw, 0o644); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes, %d nodes, opset %d)\n", out, len(raw), len(mp.Graph.Node),
				mp.OpsetImport[0].GetVersion())
			return nil
		},
	}
	c.Flags().StringVar(&dir, "model", "", "artifact folder")
	c.Flags().StringVar(&format, "format", "onnx", "output format (onnx)")
	c.Flags().StringVar(&out, "out", "", "file to write")
	c.Flags().IntVar(&opset, "opset", 17, "ONNX opset: 17 or 14")
	c.Flags().BoolVar(&prep, "preprocessing", true, "include the fitted table preprocessing (raw columns in)")
	return c
}
