package tune

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runStudy(t *testing.T, cfg, dir string) (*Study, string) {
	t.Helper()
	sp, err := ReadSpec(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Check(cfg); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	st, err := Run(context.Background(), Options{ConfigFile: cfg, Spec: sp, Dir: dir, Out: &out, Cores: 2})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return st, out.String()
}

// TestStudyFailedTrialAndResume runs a study where one choice makes the
// loss blow up: that trial is recorded as failed and the others complete;
// running the same study again finds everything done and runs nothing.
func TestStudyFailedTrialAndResume(t *testing.T) {
	cfg := irisConfig(t, `tune:
  trials: 4
  parallel: 2
  sampler: grid
  seed: 1
  parameters:
    train.optimizer: {space: choice, categories: [{name: adam, lr: 0.01}, {name: sgd, lr: 1.0e+30}]}
    model.hidden: {space: choice, categories: [[8], [8, 4]]}
`)
	dir := filepath.Join(t.TempDir(), "study")
	st, out := runStudy(t, cfg, dir)
	c := counts(st.Trials)
	if len(st.Trials) != 4 || c[Complete] != 2 || c[Failed] != 2 {
		for _, tr := range st.Trials {
			t.Log(tr.Number, tr.State, tr.Error)
		}
		t.Fatalf("trials %d, states %v\n%s", len(st.Trials), c, out)
	}
	for _, tr := range st.Trials {
		if tr.State == Failed && !strings.Contains(tr.Error, "loss is") {
			t.Errorf("trial %d failed with %q, want the NaN-loss error", tr.Number, tr.Error)
		}
		if tr.State == Complete && (len(tr.Steps) != 6 || tr.Value != tr.Steps[len(tr.Steps)-1].Value && tr.Value > tr.Steps[len(tr.Steps)-1].Value) {
			t.Errorf("trial %d: %d epochs, value %g", tr.Number, len(tr.Steps), tr.Value)
		}
	}
	if st.Best == nil || st.Best.Params["train.optimizer"] == nil {
		t.Fatal("no best trial")
	}
	for _, f := range []string{"best/model/model.json", "best/model/weights.safetensors", StudyHTML, JournalFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, StudyHTML))
	for _, want := range []string{"Optimisation history", "Parallel coordinates", "Parameter importance", "<svg", "model.hidden against val_loss"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("study.html lacks %q", want)
		}
	}
	if !strings.Contains(out, "best: trial") {
		t.Errorf("no final table:\n%s", out)
	}
	jb, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	recs, err := ParseJournal("j", jb)
	if err != nil {
		t.Fatal(err)
	}
	st2, out2 := runStudy(t, cfg, dir)
	if st2.Resumed != 4 || len(st2.Trials) != 4 || st2.Best.Number != st.Best.Number {
		t.Fatalf("rerun: resumed %d of %d trials, best %d (was %d)\n%s", st2.Resumed, len(st2.Trials), st2.Best.Number, st.Best.Number, out2)
	}
	jb2, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	if !bytes.Equal(jb, jb2) {
		t.Errorf("a finished study's rerun wrote %d more records", len(recs))
	}
}

func TestStudyRefusesAnotherSpace(t *testing.T) {
	tuneA := "tune:\n  trials: 1\n  parameters:\n    train.epochs: {space: randint, lower: 1, upper: 3}\n"
	dir := filepath.Join(t.TempDir(), "s")
	runStudy(t, irisConfig(t, tuneA), dir)
	cfg := irisConfig(t, strings.Replace(tuneA, "upper: 3", "upper: 4", 1))
	sp, _ := ReadSpec(cfg, "")
	if err := sp.Check(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{ConfigFile: cfg, Spec: sp, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "another config or search space") {
		t.Fatalf("got %v", err)
	}
}

func TestReplayJournal(t *testing.T) {
	j := `{"event":"study","trial":-1,"time":"2026-01-01T00:00:00Z","fingerprint":"x"}
{"event":"start","trial":0,"time":"2026-01-01T00:00:01Z","params":{"a":1},"values":[1],"sets":["a=1"]}
{"event":"epoch","trial":0,"time":"2026-01-01T00:00:02Z","epoch":1,"value":0.5}
{"event":"epoch","trial":0,"time":"2026-01-01T00:00:03Z","epoch":2,"value":0.4}
{"event":"start","trial":1,"time":"2026-01-01T00:00:03Z","params":{"a":2},"values":[2],"sets":["a=2"]}
{"event":"epoch","trial":0,"time":"2026-01-01T00:00:04Z","epoch":2,"value":0.3}
{"event":"epoch","trial":0,"time":"2026-01-01T00:00:05Z","epoch":3,"value":0.2}
{"event":"end","trial":0,"time":"2026-01-01T00:00:06Z","state":"complete","value":0.2,"seconds":5}
`
	recs, err := ParseJournal("j", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	ts := Replay(recs)
	if len(ts) != 2 || ts[0].State != Complete || ts[0].Value != 0.2 || len(ts[0].Steps) != 3 || ts[0].Steps[1].Value != 0.3 || ts[1].State != Running || !ts[1].announced {
		t.Fatalf("replay: %+v %+v", ts[0], ts[1])
	}
	if _, err := ParseJournal("j", []byte("{\"event\":\"begin\",\"trial\":0}\n")); err == nil || !strings.Contains(err.Error(), "j:1: unknown event") {
		t.Errorf("bad event: %v", err)
	}
	// A torn last line (killed mid-write) is cut off when the journal opens.
	p := filepath.Join(t.TempDir(), JournalFile)
	os.WriteFile(p, []byte(j+`{"event":"epoch","trial":1,"ep`), 0o644)
	jr, recs2, err := OpenJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs2) != len(recs) {
		t.Errorf("%d records after the torn line, want %d", len(recs2), len(recs))
	}
	if err := jr.Append(Record{Event: EventEnd, Trial: 1, State: Failed, Error: "x"}); err != nil {
		t.Fatal(err)
	}
	jr.Close()
	b, _ := os.ReadFile(p)
	if _, err := ParseJournal("j", b); err != nil {
		t.Errorf("journal after the repair and an append: %v", err)
	}
}

func FuzzParseJournal(f *testing.F) {
	f.Add([]byte(`{"event":"start","trial":0,"values":[1],"params":{"a":1}}` + "\n" + `{"event":"epoch","trial":0,"epoch":2,"value":1}` + "\n"))
	f.Add([]byte(`{"event":"epoch","trial":3,"epoch":1}` + "\n" + `{"event":"epoch","trial":3,"epoch":1}` + "\n"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ParseJournal("f", b)
		if err != nil {
			return
		}
		for _, tr := range Replay(recs) {
			for i := 1; i < len(tr.Steps); i++ {
				if tr.Steps[i].Epoch <= tr.Steps[i-1].Epoch {
					t.Fatalf("steps out of order: %v", tr.Steps)
				}
			}
		}
	})
}

// TestStudyTimeBudget: with only a wall-time budget the study starts no
// trial once the time is spent, and ends by itself.
func TestStudyTimeBudget(t *testing.T) {
	cfg := irisConfig(t, "tune:\n  time: 1ms\n  sampler: random\n  parameters:\n    train.optimizer.lr: {space: loguniform, lower: 0.001, upper: 0.1}\n")
	st, _ := runStudy(t, cfg, filepath.Join(t.TempDir(), "s"))
	if len(st.Trials) > 2 {
		t.Errorf("%d trials started within a 1 ms budget", len(st.Trials))
	}
}

// TestStudyMedianPrunes runs eight trials where half the learning rates
// are far too small: the median rule stops some of them early.
func TestStudyMedianPrunes(t *testing.T) {
	cfg := irisConfig(t, `tune:
  trials: 8
  sampler: grid
  pruner: median
  parameters:
    train.optimizer.lr: {space: choice, categories: [0.05, 0.00001, 0.04, 0.00002, 0.03, 0.00003, 0.02, 0.00004]}
`)
	st, out := runStudy(t, cfg, filepath.Join(t.TempDir(), "s"))
	c := counts(st.Trials)
	if c[Pruned] == 0 || c[Complete]+c[Pruned] != 8 {
		t.Errorf("states %v\n%s", c, out)
	}
	for _, tr := range st.Trials {
		if tr.State == Pruned && tr.Params["train.optimizer.lr"].(float64) > 0.001 {
			t.Errorf("trial %d with lr %v pruned", tr.Number, tr.Params["train.optimizer.lr"])
		}
	}
}
