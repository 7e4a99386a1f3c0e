package monitor

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shenml/shen/data"
	"github.com/shenml/shen/model"
)

// Reference is what one model's traffic is compared with, built once from
// the artifact's spec and training profile, and how an observed row is
// encoded as a fixed-width vector of float64 slots for the window:
//
//   - a numeric feature: its value (NaN when missing);
//   - a categorical feature: the index of its category in the profile,
//     len(categories) for a value unseen in training, -1 when missing;
//   - an image channel c (pixel_c<c> and pixel_mean_c<c> in the profile):
//     the image's mean intensity, its intensity variance, and the count of
//     its pixels in each of the profile's histogram bins;
//   - the prediction: the class index, or the first regression value;
//   - whether the row's inputs were observed (1) or only its answer (0:
//     a table model's V2 rows arrive already preprocessed, so they are not
//     comparable with the profile of raw columns).
type Reference struct {
	Task    string   // classification or regression
	Classes []string // nil for regression

	numeric     []slotNumeric
	categorical []slotCategorical
	channels    []slotChannel
	predSlot    int
	inSlot      int             // 1 when the row's inputs were observed, 0 when only its answer was
	prediction  *categoricalRef // predicted classes vs training labels; nil: learnt from the first window
	width       int

	image *model.ImageInput // image models: how inputs were prepared
}

type slotNumeric struct {
	slot int
	ref  *numericRef
}

type slotCategorical struct {
	slot int
	ref  *categoricalRef
}

type slotChannel struct {
	c          int
	slot       int // mean, variance, then bins
	bins       int
	meanRef    *numericRef // pixel_mean_c<c>: one value per image
	pixelsProf *data.FeatureProfile
}

// NewReference builds the reference of an artifact. Table models monitor
// every profiled input column; image models their channels; every model
// its predictions. It fails when the artifact has no profile.
func NewReference(spec model.Spec, p *data.Profile) (*Reference, error) {
	if p == nil {
		return nil, fmt.Errorf("monitor: model %q has no training profile (profile.json) to compare traffic with", spec.Name)
	}
	r := &Reference{Task: spec.Task, Classes: spec.Labels}
	if spec.Task == "classification" && len(r.Classes) == 0 {
		return nil, fmt.Errorf("monitor: classifier %q has no labels", spec.Name)
	}
	r.image = model.ImageInputOf(spec)
	if r.image != nil {
		for c := range r.image.Channels {
			px, mean := p.Feature(fmt.Sprintf("pixel_c%d", c)), p.Feature(fmt.Sprintf("pixel_mean_c%d", c))
			if px == nil || mean == nil || px.Histogram == nil {
				return nil, fmt.Errorf("monitor: image model %q: profile lacks pixel_c%d / pixel_mean_c%d", spec.Name, c, c)
			}
			ch := slotChannel{c: c, slot: r.width, bins: len(px.Histogram.Counts), pixelsProf: px}
			if cdf := NewRefCDF(mean); cdf != nil {
				ch.meanRef = &numericRef{name: mean.Name, fp: mean, cdf: cdf}
			}
			r.width += 2 + ch.bins
			r.channels = append(r.channels, ch)
		}
	} else {
		for i := range p.Features {
			fp := &p.Features[i]
			if fp.Type == data.Numeric {
				cdf := NewRefCDF(fp)
				if cdf == nil {
					continue // never observed in training: nothing to compare with
				}
				r.numeric = append(r.numeric, slotNumeric{r.width, &numericRef{name: fp.Name, fp: fp, cdf: cdf}})
			} else {
				r.categorical = append(r.categorical, slotCategorical{r.width, newCategoricalRef(fp.Name, "categorical", fp.Categories, fp)})
			}
			r.width++
		}
	}
	r.predSlot, r.inSlot = r.width, r.width+1
	r.width += 2
	if len(p.Labels) > 0 && len(r.Classes) > 0 {
		r.prediction = newCategoricalRef("prediction", "prediction", p.Labels, nil)
	}
	return r, nil
}

// Width is the number of float64 slots one observed row takes.
func (r *Reference) Width() int { return r.width }

// Features names the monitored inputs in slot order.
func (r *Reference) Features() []string {
	var out []string
	for _, s := range r.numeric {
		out = append(out, s.ref.name)
	}
	for _, s := range r.categorical {
		out = append(out, s.ref.name)
	}
	for _, ch := range r.channels {
		out = append(out, ch.pixelsProf.Name)
		if ch.meanRef != nil {
			out = append(out, ch.meanRef.name)
		}
	}
	return out
}

// encodeRecord writes one raw table record into dst (Width slots). Values
// may be float64, other Go numbers, json.Number, numeric strings, bools
// (numeric features) or strings; nil, "" and NaN are missing. A value of
// the wrong type for its feature counts as missing. It allocates nothing
// for float64 and string values.
func (r *Reference) encodeRecord(rec map[string]any, dst []float64) {
	for _, s := range r.numeric {
		dst[s.slot] = numberOf(rec[s.ref.name])
	}
	for _, s := range r.categorical {
		v, ok := rec[s.ref.name]
		str := ""
		if ok && v != nil {
			switch x := v.(type) {
			case string:
				str = x
			case float64:
				str = strconv.FormatFloat(x, 'g', -1, 64)
			case json.Number:
				str = string(x)
			case bool:
				str = strconv.FormatBool(x)
			default:
				str = fmt.Sprint(x)
			}
		}
		switch idx, known := s.ref.index[str]; {
		case str == "" || slices.Contains(data.DefaultMissing, str):
			dst[s.slot] = -1
		case known:
			dst[s.slot] = float64(idx)
		default:
			dst[s.slot] = float64(len(s.ref.names))
		}
	}
}

// numberOf reads a record value as a number; NaN when missing or not a
// number.
func numberOf(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return math.NaN()
		}
		return f
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// encodeImage writes one prepared image (CHW, after the artifact's
// normalisation) into dst: per channel the mean and variance of the raw
// intensities in [0, 1] (the normalisation undone) and the count of pixels
// in each bin of the profile's pixel histogram.
func (r *Reference) encodeImage(x []float32, dst []float64) {
	im := r.image
	plane := im.Height * im.Width
	for _, ch := range r.channels {
		scale, shift := 1.0, 0.0
		if n := im.Normalize; n != nil {
			scale, shift = float64(n.Std[ch.c]), float64(n.Mean[ch.c])
		}
		bins := dst[ch.slot+2 : ch.slot+2+ch.bins]
		clear(bins)
		h := ch.pixelsProf.Histogram
		var s, ss float64
		for _, v := range x[ch.c*plane : (ch.c+1)*plane] {
			f := float64(v)*scale + shift
			s += f
			ss += f * f
			if b := h.Bin(f); b >= 0 {
				bins[b]++
			}
		}
		mean := s / float64(plane)
		dst[ch.slot] = mean
		dst[ch.slot+1] = max(ss/float64(plane)-mean*mean, 0)
	}
}

// Comparison is the drift of a batch of rows against the reference, as
// one window holding them all.
type Comparison struct {
	Rows     int            `json:"rows"`
	Features []FeatureDrift `json:"features"`
	Dataset  DatasetDrift   `json:"dataset"`
}

// CompareRecords measures raw table records against the reference with
// the drift rules d, exactly as a live window of those rows would be.
func (r *Reference) CompareRecords(records []map[string]any, d DriftConfig) Comparison {
	w := newWindow(max(len(records), 1), r.width)
	for _, rec := range records {
		dst := w.slot(time.Time{})
		r.encodeRecord(rec, dst)
		dst[r.predSlot], dst[r.inSlot] = math.NaN(), 1
	}
	return r.compare(w, d)
}

// CompareImages measures prepared images (n × the input size, after the
// artifact's normalisation) against an image model's reference.
func (r *Reference) CompareImages(x []float32, n int, d DriftConfig) (Comparison, error) {
	if r.image == nil {
		return Comparison{}, fmt.Errorf("monitor: CompareImages on a model that does not read images")
	}
	size := r.image.Channels * r.image.Height * r.image.Width
	if n <= 0 || len(x) != n*size {
		return Comparison{}, fmt.Errorf("monitor: %d values are not %d images of %d", len(x), n, size)
	}
	w := newWindow(n, r.width)
	for i := range n {
		dst := w.slot(time.Time{})
		r.encodeImage(x[i*size:(i+1)*size], dst)
		dst[r.predSlot], dst[r.inSlot] = math.NaN(), 1
	}
	return r.compare(w, d), nil
}

func (r *Reference) compare(w *window, d DriftConfig) Comparison {
	var c Comparison
	var sc evalScratch
	sc.measure(r, &d, 1, func(fn func(row []float64)) int {
		c.Rows = w.each(time.Time{}, fn)
		return c.Rows
	}, &c.Features, &c.Dataset)
	return c
}
