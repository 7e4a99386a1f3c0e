package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shenml/shen/model"
	"github.com/shenml/shen/predict"
)

// Model states, as the repository index reports them (Triton's words).
const (
	StateReady       = "READY"
	StateUnavailable = "UNAVAILABLE"
)

// version is one loaded model version: its predictor and its batcher.
// Requests hold it with acquire/release; a retired version finishes the
// requests that hold it before its batcher stops.
type version struct {
	model    string
	number   int64
	label    string // number as text, for responses and metric labels
	pred     *predict.Predictor
	batch    *batcher
	input    string // the V2 input tensor's name
	outputs  []outputSpec
	sig      string // fingerprint of the artifact's files
	metrics  *versionMetrics
	stats    versionStats
	inflight atomic.Int64
	retired  atomic.Bool
	drained  chan struct{}
}

// acquire holds v for one request; false if v was retired meanwhile (look
// the model up again: its successor is published already).
func (v *version) acquire() bool {
	v.inflight.Add(1)
	if v.retired.Load() {
		v.release()
		return false
	}
	return true
}

func (v *version) release() {
	if v.inflight.Add(-1) == 0 && v.retired.Load() {
		select {
		case v.drained <- struct{}{}:
		default:
		}
	}
}

// retire stops new requests reaching v, waits for those holding it, then
// stops its batcher: a swap fails no request.
func (v *version) retire(m *metrics) {
	v.retired.Store(true)
	m.ready.WithLabelValues(v.model, v.label).Set(0)
	for v.inflight.Load() > 0 {
		select {
		case <-v.drained:
		case <-time.After(10 * time.Millisecond):
		}
	}
	v.batch.close()
	v.metrics.depth.Set(0)
}

// servedModel is one model of the repository and the versions it serves.
type servedModel struct {
	name     string
	dir      string // folder holding the version folders; "" for a single artifact
	artifact string // the artifact folder when serving one (--model)

	versions atomic.Pointer[[]*version] // ascending by number; read lock-free

	// Guarded by Repository.mu.
	config    Config
	configSig string
	failed    map[int64]failedLoad // versions whose files failed to load
	// Read lock-free by readiness probes and failing lookups, so a long
	// load (which holds Repository.mu) never stalls them.
	unloaded atomic.Bool            // unloaded through the API: polling leaves it
	reason   atomic.Pointer[string] // why it serves nothing, or the last load error
}

// failedLoad is a version whose load failed: retried when its files change.
type failedLoad struct {
	sig    string
	reason string
}

func (m *servedModel) setReason(s string) { m.reason.Store(&s) }

// why is the model's last reason ("" when it serves as it should).
func (m *servedModel) why() string {
	if p := m.reason.Load(); p != nil {
		return *p
	}
	return ""
}

// served is the published version list.
func (m *servedModel) served() []*version {
	if p := m.versions.Load(); p != nil {
		return *p
	}
	return nil
}

// Repository is the set of models a server serves, read from a Triton-style
// model repository (<root>/<model>/<version>/ holding Shen artifacts) or a
// single artifact. Lookups are lock-free; scans, loads and unloads are
// serialised.
type Repository struct {
	root     string
	single   string // artifact dir for one-model mode
	name     string // the single model's name ("" = the artifact's spec name)
	load     func(dir string) (*predict.Predictor, error)
	log      *slog.Logger
	metrics  *metrics
	versions VersionObserver // nil: nobody listens
	mu       sync.Mutex
	models   atomic.Pointer[map[string]*servedModel]
	scanned  atomic.Bool
	retiring sync.WaitGroup
}

// Scan reads the repository and brings every model to what is on disk:
// new and changed versions are loaded, warmed up and published, versions
// the policy no longer selects are retired after their requests finish.
// A version that fails to load is logged and counted and never replaces
// one that works. Scan returns the first load error, for start-up.
func (r *Repository) Scan() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	models := r.current()
	next := make(map[string]*servedModel, len(models))
	var first error
	if r.single != "" {
		m := models[r.name]
		if m == nil {
			m = &servedModel{name: r.name, artifact: r.single, failed: map[int64]failedLoad{}}
		}
		next[m.name] = m
	} else {
		entries, err := os.ReadDir(r.root)
		if err != nil {
			return fmt.Errorf("serve: model repository: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() || e.Name()[0] == '.' {
				continue
			}
			m := models[e.Name()]
			if m == nil {
				m = &servedModel{name: e.Name(), dir: filepath.Join(r.root, e.Name()), failed: map[int64]failedLoad{}}
			}
			next[m.name] = m
		}
		for name, m := range models {
			if next[name] == nil {
				r.log.Info("model removed from the repository", "model", name)
				r.publish(m, nil)
			}
		}
	}
	r.models.Store(&next)
	for _, name := range slices.Sorted(mapKeys(next)) {
		if m := next[name]; !m.unloaded.Load() {
			if err := r.sync(m); err != nil && first == nil {
				first = err
			}
		}
	}
	r.scanned.Store(true)
	return first
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (r *Repository) current() map[string]*servedModel {
	if p := r.models.Load(); p != nil {
		return *p
	}
	return nil
}

// sync brings one model to its folder's state.
func (r *Repository) sync(m *servedModel) error {
	cfg, cfgSig, err := r.config(m)
	if err != nil {
		m.setReason(err.Error())
		r.log.Error("model config rejected; the model keeps what it serves", "model", m.name, "err", err)
		r.metrics.loadFailures.WithLabelValues(m.name).Inc()
		return err
	}
	reconfigured := cfgSig != m.configSig
	m.config, m.configSig = cfg, cfgSig
	present, err := r.present(m)
	if err != nil {
		m.setReason(err.Error())
		return err
	}
	wanted := cfg.Versions(slices.Sorted(mapKeys(present)))
	old := m.served()
	var next []*version
	var first error
	for _, n := range wanted {
		dir := present[n]
		sig := fingerprint(dir)
		cur := findVersion(old, n)
		if cur != nil && cur.sig == sig && !reconfigured {
			next = append(next, cur)
			continue
		}
		if f, ok := m.failed[n]; ok && f.sig == sig {
			continue // already reported; retried when the files change
		}
		v, err := r.loadVersion(m, n, dir, sig, cfg, cur)
		if err != nil {
			m.failed[n] = failedLoad{sig, err.Error()}
			m.setReason(err.Error())
			r.metrics.loadFailures.WithLabelValues(m.name).Inc()
			r.log.Error("model version failed to load; the working versions keep serving", "model", m.name, "version", n, "dir", dir, "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		delete(m.failed, n)
		next = append(next, v)
	}
	// Versions that failed leave gaps; the working ones fill them, newest
	// first, so a broken artifact never takes a served version's place.
	for i := len(old) - 1; i >= 0 && len(next) < len(wanted); i-- {
		if o := old[i]; findVersion(next, o.number) == nil && !slices.Contains(wanted, o.number) {
			if _, still := present[o.number]; still {
				next = append(next, o)
			}
		}
	}
	slices.SortFunc(next, func(a, b *version) int { return int(a.number - b.number) })
	r.publish(m, next)
	if len(next) > 0 && first == nil {
		m.setReason("")
	} else if len(next) == 0 && m.why() == "" {
		m.setReason("no version folder holds an artifact")
	}
	return first
}

// config reads a model's config file, or the defaults.
func (r *Repository) config(m *servedModel) (Config, string, error) {
	if m.dir == "" {
		return DefaultConfig(), "", nil
	}
	cfg, path, err := LoadConfig(m.dir)
	if err != nil {
		return Config{}, "", err
	}
	if cfg.Name != "" && cfg.Name != m.name {
		return Config{}, "", fmt.Errorf("%s: name is %q, but the folder is %q", path, cfg.Name, m.name)
	}
	return cfg, fileSig(path), nil
}

// present lists a model's version folders by number.
func (r *Repository) present(m *servedModel) (map[int64]string, error) {
	if m.artifact != "" {
		return map[int64]string{1: m.artifact}, nil
	}
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("serve: model %s: %w", m.name, err)
	}
	out := map[int64]string{}
	for _, e := range entries {
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if e.IsDir() && err == nil && n > 0 {
			out[n] = filepath.Join(m.dir, e.Name())
		}
	}
	return out, nil
}

// loadVersion loads an artifact and answers a warm-up request with it
// before it may be published. A config change with unchanged files reuses
// the loaded predictor under a new batcher.
func (r *Repository) loadVersion(m *servedModel, n int64, dir, sig string, cfg Config, cur *version) (*version, error) {
	var pred *predict.Predictor
	if cur != nil && cur.sig == sig {
		pred = cur.pred
	} else {
		start := time.Now()
		p, err := r.load(dir)
		if err != nil {
			return nil, err
		}
		if err := warmUp(p); err != nil {
			return nil, fmt.Errorf("serve: %s: warm-up request failed: %w", dir, err)
		}
		pred = p
		r.log.Info("model version loaded", "model", m.name, "version", n, "dir", dir, "seconds", time.Since(start).Seconds())
	}
	label := strconv.FormatInt(n, 10)
	vm := r.metrics.forVersion(m.name, label)
	v := &version{
		model: m.name, number: n, label: label, pred: pred, sig: sig, input: inputName(pred), outputs: buildOutputs(pred),
		metrics: vm, drained: make(chan struct{}, 1),
	}
	v.batch = newBatcher(pred, cfg.batching(), vm.depth, &v.inflight)
	return v, nil
}

// warmUp runs one all-zero row, so the first client meets a model whose
// buffers and kernels are ready, and a model that cannot run is caught
// before it is served. A language model has no fixed-size forward; it
// continues a one-token prompt instead.
func warmUp(p *predict.Predictor) error {
	if p.Kind() == predict.Text {
		if v := p.Model().Spec.Vocab; v != nil {
			for _, tok := range v.Tokens {
				if len(v.Encode(tok)) > 0 {
					_, err := p.Generate(tok, 1, 0, 0)
					return err
				}
			}
		}
		return errors.New("the language model's vocabulary encodes none of its own tokens")
	}
	x := make([]float32, p.InputSize())
	out := make([]float32, p.Outputs())
	return p.Forward(x, 1, out)
}

// publish makes next the model's served versions and retires the ones it
// drops, in the background, each after its requests finish.
func (r *Repository) publish(m *servedModel, next []*version) {
	old := m.served()
	for _, v := range next {
		if r.versions != nil && findVersion(old, v.number) == nil {
			// Before publishing, so the listener knows the version before
			// its first request.
			r.versions.VersionLoaded(m.name, v.label, v.pred.Model(), m.dir)
		}
	}
	m.versions.Store(&next)
	for _, v := range next {
		r.metrics.ready.WithLabelValues(m.name, v.label).Set(1)
	}
	for _, o := range old {
		if !slices.Contains(next, o) {
			r.retiring.Add(1)
			go func() {
				defer r.retiring.Done()
				o.retire(r.metrics)
				if findVersion(next, o.number) == nil {
					r.log.Info("model version retired", "model", m.name, "version", o.number)
					if r.versions != nil {
						r.versions.VersionUnloaded(m.name, o.label)
					}
				} else {
					r.metrics.ready.WithLabelValues(m.name, o.label).Set(1)
				}
			}()
		}
	}
}

func findVersion(vs []*version, n int64) *version {
	for _, v := range vs {
		if v.number == n {
			return v
		}
	}
	return nil
}

// fingerprint names an artifact's files' sizes and times, so a changed
// artifact is reloaded and an unchanged one is not.
func fingerprint(dir string) string {
	s := ""
	for _, f := range []string{model.SpecFile, model.WeightsFile, model.ProfileFile} {
		s += fileSig(filepath.Join(dir, f)) + ";"
	}
	return s
}

func fileSig(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	return strconv.FormatInt(st.Size(), 10) + "@" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

// Errors of model lookup, mapped to 404 / NOT_FOUND and 503 / UNAVAILABLE.
var (
	errUnknownModel = errors.New("unknown model")
	errNotReady     = errors.New("model is not ready")
)

// lookup finds and holds a served version: version "" is the highest.
func (r *Repository) lookup(name, ver string) (*version, error) {
	for {
		m := r.current()[name]
		if m == nil {
			return nil, fmt.Errorf("%w %q", errUnknownModel, name)
		}
		vs := m.served()
		var v *version
		if ver == "" {
			if len(vs) > 0 {
				v = vs[len(vs)-1]
			}
		} else {
			n, err := strconv.ParseInt(ver, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w %q version %q: versions are numbers", errUnknownModel, name, ver)
			}
			if v = findVersion(vs, n); v == nil {
				return nil, fmt.Errorf("%w: %q version %s is not served", errNotReady, name, ver)
			}
		}
		if v == nil {
			return nil, fmt.Errorf("%w: %q serves no version (%s)", errNotReady, name, r.reason(name))
		}
		if v.acquire() {
			return v, nil
		}
	}
}

func (r *Repository) reason(name string) string {
	if m := r.current()[name]; m != nil && m.why() != "" {
		return m.why()
	}
	return "not loaded"
}

// Config is the configuration a model is served with.
func (r *Repository) Config(name string) Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.current()[name]; m != nil {
		return m.config
	}
	return Config{}
}

// Ready reports whether the first scan is done and every model that is not
// unloaded serves a version.
func (r *Repository) Ready() bool {
	if !r.scanned.Load() {
		return false
	}
	for _, m := range r.current() {
		if !m.unloaded.Load() && len(m.served()) == 0 {
			return false
		}
	}
	return true
}

// Load (re)loads one model from the repository, also one unloaded before.
func (r *Repository) Load(name string) error {
	if r.single != "" && name != r.name {
		return fmt.Errorf("%w %q", errUnknownModel, name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	models := r.current()
	m := models[name]
	if m == nil {
		dir := filepath.Join(r.root, name)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || name == "" || name[0] == '.' || filepath.Base(name) != name {
			return fmt.Errorf("%w %q: no such folder in the repository", errUnknownModel, name)
		}
		m = &servedModel{name: name, dir: dir, failed: map[int64]failedLoad{}}
		next := maps(models)
		next[name] = m
		r.models.Store(&next)
	}
	m.unloaded.Store(false)
	clear(m.failed) // an explicit load retries what failed
	if err := r.sync(m); err != nil {
		return err
	}
	if len(m.served()) == 0 {
		return fmt.Errorf("%w: %q: %s", errNotReady, name, m.why())
	}
	return nil
}

func maps(m map[string]*servedModel) map[string]*servedModel {
	out := make(map[string]*servedModel, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Unload stops serving a model; its requests in flight finish first.
// Polling leaves it unloaded until Load.
func (r *Repository) Unload(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.current()[name]
	if m == nil {
		return fmt.Errorf("%w %q", errUnknownModel, name)
	}
	m.unloaded.Store(true)
	m.setReason("unloaded")
	r.publish(m, nil)
	return nil
}

// IndexEntry is one row of the repository index.
type IndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
}

// Index lists every model version served, every version that failed to
// load (with the reason), and every model serving nothing.
func (r *Repository) Index() []IndexEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	models := r.current()
	var out []IndexEntry
	for _, name := range slices.Sorted(mapKeys(models)) {
		m := models[name]
		vs := m.served()
		for _, v := range vs {
			out = append(out, IndexEntry{Name: name, Version: v.label, State: StateReady})
		}
		for _, n := range slices.Sorted(mapKeys(m.failed)) {
			if findVersion(vs, n) == nil {
				out = append(out, IndexEntry{Name: name, Version: strconv.FormatInt(n, 10), State: StateUnavailable, Reason: m.failed[n].reason})
			}
		}
		if len(vs) == 0 && len(m.failed) == 0 {
			out = append(out, IndexEntry{Name: name, State: StateUnavailable, Reason: m.why()})
		}
	}
	return out
}

// poll rescans every interval until ctx ends.
func (r *Repository) poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = r.Scan() // errors are logged and counted by sync
		}
	}
}

// close retires every version, each after its requests finish.
func (r *Repository) close() {
	r.mu.Lock()
	for _, m := range r.current() {
		r.publish(m, nil)
	}
	r.mu.Unlock()
	r.retiring.Wait()
}
