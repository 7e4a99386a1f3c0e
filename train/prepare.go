package train

// This file turns a config's data section into split, transformed,
// loadable datasets: read, clean, split, fit the preprocessing on the
// training split, profile.

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// prepared is the data of a run, split, transformed and ready to load.
type prepared struct {
	classes                []string
	pipe                   *data.Pipeline
	profile                *data.Profile
	trainDS, valDS, testDS data.Dataset
	// testRows are the test split's rows as read and cleaned, target
	// included (tables; nil otherwise), for predictions_test.csv.
	testRows            *data.Frame
	input               []int // per-sample input shape
	clean               *data.CleanReport
	dataHash            string
	trainN, valN, testN int
	// window is set for sequence samples cut from rows; rescale is the
	// [scale, shift] of regression targets on windows; naiveRMSE the test
	// RMSE of repeating the last value (forecasting).
	window    *model.Window
	rescale   []float32
	naiveRMSE float64
	// seasonalRMSE is the test RMSE of the seasonal-naive forecast (the
	// value data.window.season rows back) over the seasonalN test windows
	// that have one.
	seasonalRMSE float64
	seasonalN    int
	// valInvert and testInvert map a transformed forecast target back to
	// its units (data.window log/difference) for the metrics.
	valInvert, testInvert func(pred, target []float64, idx []int)
	// trainY are the training labels (classification), for balanced
	// class weights.
	trainY []int64
	// vocab is the tokenizer of a language model on text; unigram the
	// validation loss of predicting tokens by their training frequency.
	vocab   *data.Vocab
	unigram float64
	// image is how raw images become inputs (idx, images).
	image *model.ImageInput
}

// prepare reads, cleans, splits and transforms the data of cfg.
func prepare(cfg *Config, seed uint64, out io.Writer) (*prepared, error) {
	d := cfg.Data
	path := cfg.DataPath(d.Path)
	p := &prepared{}
	var err error
	switch d.Format {
	case "idx":
		if p.dataHash, err = fileHash(path, cfg.DataPath(d.Labels)); err != nil {
			return nil, err
		}
		ds, err := data.LoadMNIST(path, cfg.DataPath(d.Labels))
		if err != nil {
			return nil, err
		}
		return prepareArrays(cfg, p, ds, nil, seed)
	case "images":
		f, err := data.ReadImageFolder(path, data.ImageOptions{Width: d.Image.Width, Height: d.Image.Height, Gray: d.Image.Gray})
		if err != nil {
			return nil, err
		}
		if p.dataHash, err = fileHash(f.Paths...); err != nil {
			return nil, err
		}
		ds, err := data.NewArrayDataset(f.X, []int{f.C, f.H, f.W}, f.Labels)
		if err != nil {
			return nil, err
		}
		return prepareArrays(cfg, p, ds, f.Classes, seed)
	}
	if p.dataHash, err = fileHash(path); err != nil {
		return nil, err
	}
	if d.Format == "text" {
		return prepareText(cfg, p, out)
	}
	return prepareTable(cfg, p, seed, out)
}

// prepareArrays splits an in-memory image dataset, fits the image
// normalisation (when configured) and the profile on the training split
// only, and wraps the splits so every sample reaches the model as the
// artifact's ImageInput.Apply would give it.
func prepareArrays(cfg *Config, p *prepared, ds *data.ArrayDataset, classes []string, seed uint64) (*prepared, error) {
	n := ds.Len()
	if cfg.Data.Limit > 0 && cfg.Data.Limit < n {
		n = cfg.Data.Limit
	}
	if classes == nil {
		maxY := int64(0)
		for _, y := range ds.Y[:n] {
			maxY = max(maxY, y)
		}
		if names := cfg.Data.ClassNames; len(names) > 0 {
			if maxY >= int64(len(names)) {
				return nil, cfg.errAt("data.class_names", "names %d classes, but %s holds the label %d", len(names), cfg.Data.Labels, maxY)
			}
			classes = names
		} else {
			for i := range maxY + 1 {
				classes = append(classes, strconv.FormatInt(i, 10))
			}
		}
	}
	p.classes = classes
	tr, va, te, err := splitIdx(cfg, n, ds.Y[:n])
	if err != nil {
		return nil, err
	}
	p.input = ds.Spec().XShape
	if len(p.input) != 3 {
		return nil, fmt.Errorf("train: images of shape %v are not [channels, height, width]", p.input)
	}
	c, h, w := p.input[0], p.input[1], p.input[2]
	p.image = &model.ImageInput{Channels: c, Height: h, Width: w}
	if cfg.Preprocessing.Image.Normalize {
		if p.image.Normalize, err = data.FitImageNormalizeRows(ds.X, c, h, w, tr); err != nil {
			return nil, fmt.Errorf("train: fitting the image normalisation on the training split: %w", err)
		}
	}
	if p.profile, err = data.NewImageProfile(ds.X, c, h, w, tr, ds.Y, classes, 10); err != nil {
		return nil, err
	}
	var train data.Dataset = &data.Subset{Base: ds, Indices: tr}
	if a := cfg.Preprocessing.Image.Augment; a != nil {
		train = &data.Augmented{Base: train, Aug: data.ImageAugment{Pad: a.Pad, HFlip: a.HFlip}, Normalize: p.image.Normalize, Seed: seed}
	} else {
		train = imageInputs(train, p.image)
	}
	p.trainDS = train
	p.trainY = make([]int64, len(tr))
	for i, j := range tr {
		p.trainY[i] = ds.Y[j]
	}
	p.valDS = imageInputs(&data.Subset{Base: ds, Indices: va}, p.image)
	p.testDS = imageInputs(&data.Subset{Base: ds, Indices: te}, p.image)
	p.trainN, p.valN, p.testN = len(tr), len(va), len(te)
	return p, nil
}

// imageInputs returns ds with in.Apply run on every sample (ds itself
// when in has nothing to apply).
func imageInputs(ds data.Dataset, in *model.ImageInput) data.Dataset {
	if in.Normalize == nil {
		return ds
	}
	return &appliedImages{Dataset: ds, in: in}
}

// appliedImages is a Dataset whose samples go through an ImageInput.
type appliedImages struct {
	data.Dataset
	in *model.ImageInput
}

// Get reads sample i and applies the image preprocessing to it.
func (a *appliedImages) Get(i int, s data.Sample) error {
	if err := a.Dataset.Get(i, s); err != nil {
		return err
	}
	return a.in.Apply(s.X)
}

// SetEpoch forwards to the base when it is an EpochSetter.
func (a *appliedImages) SetEpoch(e int) {
	if es, ok := a.Dataset.(data.EpochSetter); ok {
		es.SetEpoch(e)
	}
}

func splitIdx(cfg *Config, n int, labels []int64) (tr, va, te []int, err error) {
	so := data.SplitOptions{Val: *cfg.Data.Split.Val, Test: *cfg.Data.Split.Test, Seed: cfg.Data.Split.Seed}
	if *cfg.Data.Split.Stratify && cfg.Task == Classification {
		so.Stratify = labels
	}
	tr, va, te, err = data.Split(n, so)
	if err != nil {
		return nil, nil, nil, cfg.errAt("data.split", "%v", err)
	}
	if len(tr) == 0 {
		return nil, nil, nil, cfg.errAt("data.split", "leaves no training samples out of %d", n)
	}
	return tr, va, te, nil
}

// prepareTable reads a table, cleans it, splits it and fits the pipeline
// on the training rows.
func prepareTable(cfg *Config, p *prepared, seed uint64, out io.Writer) (*prepared, error) {
	d := cfg.Data
	f, sk, err := readTable(cfg)
	if err != nil {
		return nil, err
	}
	f, feats, err := selectColumns(cfg, f)
	if err != nil {
		return nil, err
	}
	if f, err = cleanTable(cfg, p, f, feats, out); err != nil {
		return nil, err
	}
	labels, yf, err := tableTargets(cfg, p, f, sk)
	if err != nil {
		return nil, err
	}
	if d.Window != nil {
		return prepareWindows(cfg, p, f, feats, labels, yf)
	}
	return splitTable(cfg, p, f, labels, yf)
}

// readTable reads the config's table with the declared column types (the
// target as categories for classification).
func readTable(cfg *Config) (f *data.Frame, sklearnClasses []string, err error) {
	d := cfg.Data
	path := cfg.DataPath(d.Path)
	opts := data.CSVOptions{MaxRows: d.Limit, Types: map[string]data.ColumnType{}}
	for _, ft := range d.Features {
		switch ft.Type {
		case "numeric":
			opts.Types[ft.Name] = data.Numeric
		case "category", "date":
			opts.Types[ft.Name] = data.Categorical
		}
	}
	if cfg.Task == Classification && d.Format != "sklearn_csv" {
		opts.Types[d.Target] = data.Categorical
	}
	switch d.Format {
	case "sklearn_csv":
		f, sklearnClasses, err = data.ReadSklearnCSV(path)
		if err == nil && d.Limit > 0 && d.Limit < f.NumRows() {
			f = f.Take(seq(d.Limit))
		}
	case "jsonl":
		f, err = data.ReadJSONL(path, opts)
	default:
		if d.Format == "tsv" {
			opts.Comma = '\t'
		}
		if d.Header != nil && !*d.Header {
			opts.NoHeader = true
		}
		f, err = data.ReadCSV(path, opts)
	}
	return f, sklearnClasses, err
}

// selectColumns keeps the features (data.features, else every column but
// the target and the window group), the target and the group.
func selectColumns(cfg *Config, f *data.Frame) (*data.Frame, []string, error) {
	d := cfg.Data
	if f.Col(d.Target) == nil {
		return nil, nil, cfg.errAt("data.target", "column %q is not in %s (columns: %s)", d.Target, d.Path, f.ColumnList())
	}
	feats := make([]string, 0, len(d.Features))
	for _, ft := range d.Features {
		if f.Col(ft.Name) == nil {
			return nil, nil, cfg.errAt("data.features", "column %q is not in %s (columns: %s)", ft.Name, d.Path, f.ColumnList())
		}
		feats = append(feats, ft.Name)
	}
	if len(feats) == 0 {
		for _, n := range f.Names() {
			if n != d.Target && (d.Window == nil || n != d.Window.Group) {
				feats = append(feats, n)
			}
		}
	}
	for n := range cfg.Preprocessing.Features {
		if !slices.Contains(feats, n) {
			return nil, nil, cfg.errAt("preprocessing.features."+n, "column %q is not a feature of %s", n, d.Path)
		}
	}
	keep := slices.Clone(feats)
	if !slices.Contains(keep, d.Target) {
		keep = append(keep, d.Target)
	}
	if w := d.Window; w != nil && w.Group != "" && !slices.Contains(keep, w.Group) {
		if f.Col(w.Group) == nil {
			return nil, nil, cfg.errAt("data.window.group", "column %q is not in %s (columns: %s)", w.Group, d.Path, f.ColumnList())
		}
		keep = append(keep, w.Group)
	}
	f, err := f.Select(keep...)
	return f, feats, err
}

// cleanTable drops rows without a target and applies data.cleaning,
// keeping the report in p.clean.
func cleanTable(cfg *Config, p *prepared, f *data.Frame, feats []string, out io.Writer) (*data.Frame, error) {
	d := cfg.Data
	co := data.CleanOptions{DropDuplicates: d.Cleaning.DropDuplicates}
	switch d.Cleaning.Missing {
	case "drop":
		co.Missing = data.DropMissing
	case "impute":
		co.Missing = data.ImputeMissing
		co.Strategy = data.ImputeStrategy(d.Cleaning.Impute)
		if co.Strategy == "" {
			co.Strategy = data.Mean
		}
		co.Columns = feats
	}
	if len(d.Cleaning.Clip) == 2 {
		co.ClipLow, co.ClipHigh = d.Cleaning.Clip[0], d.Cleaning.Clip[1]
		for _, n := range feats {
			if f.Col(n).Type == data.Numeric {
				co.ClipColumns = append(co.ClipColumns, n)
			}
		}
	}
	// Rows without a target cannot be used for training.
	tc := f.Col(d.Target)
	if tc.MissingCount() > 0 {
		keep := make([]int, 0, f.NumRows())
		for i := range f.NumRows() {
			if !tc.IsMissing(i) {
				keep = append(keep, i)
			}
		}
		fmt.Fprintf(out, "cleaning: dropped %d rows with no %s\n", f.NumRows()-len(keep), d.Target)
		f = f.Take(keep)
	}
	f, rep, err := data.Clean(f, co)
	if err != nil {
		return nil, err
	}
	p.clean = rep
	if s := strings.TrimSpace(rep.String()); s != "" && (rep.RowsIn != rep.RowsOut || len(rep.Imputed) > 0 || len(rep.Clipped) > 0 || len(rep.Coerced) > 0) {
		fmt.Fprintf(out, "cleaning:\n%s\n", s)
	}
	if f.NumRows() == 0 {
		return nil, fmt.Errorf("train: %s: no rows left after cleaning", cfg.DataPath(d.Path))
	}
	return f, nil
}

// tableTargets encodes the target: class indices (setting p.classes) or
// regression values.
func tableTargets(cfg *Config, p *prepared, f *data.Frame, sk []string) (labels []int64, yf []float32, err error) {
	d := cfg.Data
	if cfg.Task == Classification {
		enc, err := data.FitLabels(f, d.Target)
		if err != nil {
			return nil, nil, err
		}
		if labels, err = enc.Encode(f, d.Target); err != nil {
			return nil, nil, err
		}
		p.classes = enc.Classes
		if sk != nil && enc.Numeric && len(enc.Classes) <= len(sk) {
			p.classes = sk
		}
		if len(p.classes) < 2 {
			return nil, nil, cfg.errAt("data.target", "column %q holds %d class; classification needs at least two", d.Target, len(p.classes))
		}
		return labels, nil, nil
	}
	c := f.Col(d.Target)
	if c.Type != data.Numeric {
		return nil, nil, cfg.errAt("data.target", "column %q is not numeric; regression needs numbers", d.Target)
	}
	yf = make([]float32, f.NumRows())
	for i, v := range c.Num {
		yf[i] = float32(v)
	}
	return nil, yf, nil
}

// splitTable splits the rows, fits the preprocessing and the profile on
// the training split and makes the three datasets.
func splitTable(cfg *Config, p *prepared, f *data.Frame, labels []int64, yf []float32) (*prepared, error) {
	tr, va, te, err := splitIdx(cfg, f.NumRows(), labels)
	if err != nil {
		return nil, err
	}
	x := f.Drop(cfg.Data.Target)
	trainX := x.Take(tr)
	p.pipe = buildPipeline(cfg, trainX)
	if err := p.pipe.Fit(trainX); err != nil {
		return nil, fmt.Errorf("train: fitting preprocessing on the training split: %w", err)
	}
	p.profile = data.NewProfile(trainX, 10)
	countFilled(cfg, p, x)
	w := p.pipe.Width()
	p.input = []int{w}
	make1 := func(idx []int) (data.Dataset, error) {
		xs, _, err := p.pipe.Transform(x.Take(idx))
		if err != nil {
			return nil, err
		}
		if cfg.Task == Classification {
			ys := make([]int64, len(idx))
			for i, j := range idx {
				ys[i] = labels[j]
			}
			return data.NewArrayDataset(xs, []int{w}, ys)
		}
		ys := make([]float32, len(idx))
		for i, j := range idx {
			ys[i] = yf[j]
		}
		return data.NewRegressionDataset(xs, []int{w}, ys, 1)
	}
	if p.trainDS, err = make1(tr); err != nil {
		return nil, err
	}
	if labels != nil {
		p.trainY = make([]int64, len(tr))
		for i, j := range tr {
			p.trainY[i] = labels[j]
		}
	}
	if p.valDS, err = make1(va); err != nil {
		return nil, err
	}
	if p.testDS, err = make1(te); err != nil {
		return nil, err
	}
	p.testRows = f.Take(te)
	p.trainN, p.valN, p.testN = len(tr), len(va), len(te)
	return p, nil
}

// countFilled records in the cleaning report how many missing values of
// each input column the fitted preprocessing fills, so imputation is never
// silent.
func countFilled(cfg *Config, p *prepared, x *data.Frame) {
	if p.clean == nil {
		return
	}
	for _, u := range p.pipe.InputUses() {
		c := x.Col(u.Name)
		if c == nil || !u.Imputed {
			continue
		}
		if n := c.MissingCount(); n > 0 {
			if p.clean.Filled == nil {
				p.clean.Filled = map[string]data.ImputeCount{}
			}
			strategy := data.ImputeStrategy(cfg.Preprocessing.Impute)
			if u.Type == data.Categorical && strategy != data.Constant {
				strategy = data.Mode // categories are filled with the most frequent one
			}
			p.clean.Filled[u.Name] = data.ImputeCount{Count: n, Strategy: strategy, Value: u.Fill}
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// buildPipeline turns the preprocessing section into pipeline steps for
// the columns of f: imputation, per-feature transforms, the numeric
// default, then the categorical encoding.
func buildPipeline(cfg *Config, f *data.Frame) *data.Pipeline {
	pp := cfg.Preprocessing
	var steps []data.Step
	if pp.Impute != "none" {
		steps = append(steps, data.Impute(data.ImputeStrategy(pp.Impute)))
	}
	// Date and datetime columns (declared, or detected in the training
	// split) become calendar features rather than one category per day.
	dates := data.DetectDates(f)
	for _, ft := range cfg.Data.Features {
		if ft.Type == "date" && !slices.Contains(dates, ft.Name) {
			dates = append(dates, ft.Name)
		}
	}
	if len(dates) > 0 {
		steps = append(steps, data.DateFeatures(dates...))
	}
	var nums, cats []string
	for _, c := range f.Columns {
		if _, ok := pp.Features[c.Name]; ok || slices.Contains(dates, c.Name) {
			continue
		}
		if c.Type == data.Categorical {
			cats = append(cats, c.Name)
		} else {
			nums = append(nums, c.Name)
		}
	}
	names := make([]string, 0, len(pp.Features))
	for n := range pp.Features {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, t := range pp.Features[n] {
			if s := transformStep(t, n); s != nil {
				steps = append(steps, s)
			}
		}
	}
	if len(nums) > 0 {
		if s := transformStep(pp.Numeric, nums...); s != nil {
			steps = append(steps, s)
		}
	}
	if len(cats) > 0 {
		steps = append(steps, transformStep(pp.Categorical, cats...))
	}
	return data.NewPipeline(steps...)
}

func transformStep(name string, cols ...string) data.Step {
	switch name {
	case "standardize":
		return data.Standardize(cols...)
	case "minmax":
		return data.MinMax(cols...)
	case "robust":
		return data.Robust(cols...)
	case "log":
		return data.Log1p(cols...)
	case "onehot":
		return data.OneHot(cols...)
	case "ordinal":
		return data.Ordinal(cols...)
	}
	return nil
}

// classWeights returns the cross-entropy class weights of
// train.class_weights (nil when unset): the given list, or for balanced
// n / (classes · count) over the training labels.
func classWeights(cfg *Config, p *prepared) ([]float32, error) {
	t := cfg.Train
	k := len(p.classes)
	if t.weights != nil {
		if len(t.weights) != k {
			return nil, cfg.errAt("train.class_weights", "has %d weights, the data has %d classes %v", len(t.weights), k, p.classes)
		}
		w := make([]float32, k)
		for i, v := range t.weights {
			w[i] = float32(v)
		}
		return w, nil
	}
	if !t.balanced {
		return nil, nil
	}
	counts := make([]int, k)
	for _, y := range p.trainY {
		counts[y]++
	}
	w := make([]float32, k)
	for c, n := range counts {
		if n == 0 {
			return nil, cfg.errAt("train.class_weights", "balanced: class %q has no training samples", p.classes[c])
		}
		w[c] = float32(float64(len(p.trainY)) / float64(k*n))
	}
	return w, nil
}
