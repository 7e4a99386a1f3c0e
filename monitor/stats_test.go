package monitor

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// scipyCases is testdata/monitor/scipy.json, written by gen_scipy.py.
type scipyCases struct {
	KS2Samp []struct {
		A, B []float64
		D, P float64
	} `json:"ks_2samp"`
	KS2SampGen []struct {
		N1, N2       int
		Mul1, Shift1 float64
		Mul2, Shift2 float64
		D, P         float64
	} `json:"ks_2samp_gen"`
	KSTwoSF []struct {
		N     int
		X, SF float64
	} `json:"kstwo_sf"`
	KSCDF []struct {
		X      []float64
		KnotsX []float64 `json:"knots_x"`
		KnotsF []float64 `json:"knots_f"`
		M      int
		D, P   float64
	} `json:"ks_cdf"`
	Wasserstein []struct {
		U, V []float64
		W    float64
	}
	WassersteinCDF []struct {
		X      []float64
		KnotsX []float64 `json:"knots_x"`
		KnotsF []float64 `json:"knots_f"`
		W      float64
	} `json:"wasserstein_cdf"`
	ChiSquare []struct {
		Obs, Exp []float64
		Stat, P  float64
	}
	Chi2Contingency []struct {
		A, B    []float64
		Stat, P float64
	} `json:"chi2_contingency"`
	Chi2SF []struct {
		X, SF float64
		DF    int
	} `json:"chi2_sf"`
	JensenShannon []struct {
		P, Q     []float64
		Base, JS float64
	}
	PSI []struct {
		Ref, Cur []float64
		PSI      float64
	}
}

func loadScipy(t *testing.T) *scipyCases {
	t.Helper()
	b, err := os.ReadFile("../testdata/monitor/scipy.json")
	if err != nil {
		t.Fatal(err)
	}
	c := &scipyCases{}
	if err := json.Unmarshal(b, c); err != nil {
		t.Fatal(err)
	}
	if len(c.KS2Samp) == 0 || len(c.KS2SampGen) == 0 || len(c.KSTwoSF) == 0 || len(c.KSCDF) == 0 || len(c.Wasserstein) == 0 ||
		len(c.WassersteinCDF) == 0 || len(c.ChiSquare) == 0 || len(c.Chi2Contingency) == 0 || len(c.Chi2SF) == 0 || len(c.JensenShannon) == 0 || len(c.PSI) == 0 {
		t.Fatal("scipy.json lacks cases: rerun gen_scipy.py")
	}
	return c
}

// near reports whether got matches want to a relative tolerance rel, or
// an absolute one of abs for values near zero.
func near(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= max(abs, rel*math.Abs(want))
}

func TestKS2SampMatchesSciPy(t *testing.T) {
	for i, c := range loadScipy(t).KS2Samp {
		r, err := KS2Samp(c.A, c.B)
		if err != nil {
			t.Fatal(err)
		}
		if !near(r.D, c.D, 1e-12, 1e-15) || !near(r.P, c.P, 1e-9, 1e-14) {
			t.Errorf("case %d (n=%d m=%d): D %.17g p %.17g (%s), SciPy D %.17g p %.17g", i, len(c.A), len(c.B), r.D, r.P, r.Method, c.D, c.P)
		}
	}
	// Large samples by formula: the exact path past 1000 values each, and
	// the asymptotic one past 10000.
	gen := func(n int, mul, shift float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Mod(float64(i)*mul, 1) + shift
		}
		return v
	}
	for _, c := range loadScipy(t).KS2SampGen {
		r, err := KS2Samp(gen(c.N1, c.Mul1, c.Shift1), gen(c.N2, c.Mul2, c.Shift2))
		if err != nil {
			t.Fatal(err)
		}
		if !near(r.D, c.D, 1e-12, 1e-15) || !near(r.P, c.P, 1e-8, 1e-14) {
			t.Errorf("n=%d m=%d: D %.17g p %.17g (%s), SciPy D %.17g p %.17g", c.N1, c.N2, r.D, r.P, r.Method, c.D, c.P)
		}
	}
	if _, err := KS2Samp(nil, []float64{1}); err == nil {
		t.Error("empty sample: no error")
	}
}

func TestKolmogorovSFMatchesSciPy(t *testing.T) {
	for _, c := range loadScipy(t).KSTwoSF {
		if got := KolmogorovSF(c.N, c.X); !near(got, c.SF, 1e-8, 1e-14) {
			t.Errorf("kstwo.sf(%v, %d) = %.17g, SciPy %.17g", c.X, c.N, got, c.SF)
		}
	}
}

func TestKSAgainstCDFMatchesSciPy(t *testing.T) {
	for i, c := range loadScipy(t).KSCDF {
		r := &RefCDF{X: c.KnotsX, F: c.KnotsF}
		s := slices.Clone(c.X)
		slices.Sort(s)
		got := KSAgainstCDF(s, r.CDF, c.M)
		g := make([]float64, len(s))
		r.cdfSorted(s, g)
		for i, v := range s {
			if g[i] != r.CDF(v) {
				t.Fatalf("cdfSorted at %v: %v, CDF %v", v, g[i], r.CDF(v))
			}
		}
		if !near(got.D, c.D, 1e-12, 1e-15) || !near(got.P, c.P, 1e-8, 1e-14) {
			t.Errorf("case %d: D %.17g p %.17g, SciPy D %.17g p %.17g", i, got.D, got.P, c.D, c.P)
		}
	}
}

func TestWassersteinMatchesSciPy(t *testing.T) {
	c := loadScipy(t)
	for i, w := range c.Wasserstein {
		got, err := Wasserstein(w.U, w.V)
		if err != nil || !near(got, w.W, 1e-12, 1e-15) {
			t.Errorf("case %d: %.17g (%v), SciPy %.17g", i, got, err, w.W)
		}
	}
	for i, w := range c.WassersteinCDF {
		r := &RefCDF{X: w.KnotsX, F: w.KnotsF}
		s := slices.Clone(w.X)
		slices.Sort(s)
		if got := WassersteinAgainstCDF(s, r); !near(got, w.W, 1e-9, 1e-12) {
			t.Errorf("against CDF, case %d: %.17g, quadrature %.17g", i, got, w.W)
		}
	}
}

func TestChiSquareMatchesSciPy(t *testing.T) {
	c := loadScipy(t)
	for i, x := range c.ChiSquare {
		stat, p := ChiSquare(x.Obs, x.Exp)
		if !near(stat, x.Stat, 1e-12, 1e-15) || !near(p, x.P, 1e-10, 1e-300) {
			t.Errorf("case %d: stat %.17g p %.17g, SciPy %.17g %.17g", i, stat, p, x.Stat, x.P)
		}
	}
	for i, x := range c.Chi2Contingency {
		stat, p := ChiSquareHomogeneity(x.A, x.B)
		if !near(stat, x.Stat, 1e-12, 1e-15) || !near(p, x.P, 1e-10, 1e-300) {
			t.Errorf("contingency case %d: stat %.17g p %.17g, SciPy %.17g %.17g", i, stat, p, x.Stat, x.P)
		}
	}
	for _, x := range c.Chi2SF {
		if got := ChiSquareSF(x.X, x.DF); !near(got, x.SF, 1e-10, 1e-300) {
			t.Errorf("chi2.sf(%v, %d) = %.17g, SciPy %.17g", x.X, x.DF, got, x.SF)
		}
	}
}

func TestJensenShannonMatchesSciPy(t *testing.T) {
	for i, x := range loadScipy(t).JensenShannon {
		if got := JensenShannon(x.P, x.Q, x.Base); !near(got, x.JS, 1e-12, 1e-15) {
			t.Errorf("case %d (base %v): %.17g, SciPy %.17g", i, x.Base, got, x.JS)
		}
	}
}

func TestPSIMatchesEvidentlyFormula(t *testing.T) {
	for i, x := range loadScipy(t).PSI {
		if got := PSI(x.Ref, x.Cur); !near(got, x.PSI, 1e-12, 1e-15) {
			t.Errorf("case %d: %.17g, want %.17g", i, got, x.PSI)
		}
	}
}
