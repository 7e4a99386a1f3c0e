package serve

import (
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// versionStats are a model version's counters for the statistics
// extension (GET /v2/models[/{m}[/versions/{v}]]/stats), in Triton's form.
type versionStats struct {
	success, fail, queue, compute duration
	inferences                    atomic.Int64 // rows answered (Forward calls are the batcher's executions)
	last                          atomic.Int64 // last inference, ms since the epoch
}

// duration is a count and a total time.
type duration struct{ count, ns atomic.Int64 }

func (d *duration) add(t time.Duration) {
	d.count.Add(1)
	d.ns.Add(int64(t))
}

// statDuration is the JSON form of a duration.
type statDuration struct {
	Count int64 `json:"count"`
	NS    int64 `json:"ns"`
}

func (d *duration) json() statDuration { return statDuration{d.count.Load(), d.ns.Load()} }

// succeeded records a served request.
func (v *version) succeeded(j *job, total time.Duration) {
	s := &v.stats
	s.success.add(total)
	s.queue.add(j.queued)
	s.compute.add(j.compute)
	s.inferences.Add(int64(j.n))
	s.last.Store(time.Now().UnixMilli())
}

// failed records a request that failed after its model was found.
func (v *version) failed(total time.Duration) { v.stats.fail.add(total) }

type modelStats struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	LastInference  int64  `json:"last_inference"`
	InferenceCount int64  `json:"inference_count"`
	ExecutionCount int64  `json:"execution_count"`
	InferenceStats struct {
		Success       statDuration `json:"success"`
		Fail          statDuration `json:"fail"`
		Queue         statDuration `json:"queue"`
		ComputeInput  statDuration `json:"compute_input"`
		ComputeInfer  statDuration `json:"compute_infer"`
		ComputeOutput statDuration `json:"compute_output"`
	} `json:"inference_stats"`
	BatchStats []any `json:"batch_stats"`
}

// modelStatistics serves the statistics extension for every served
// version, one model's, or one version's. Counts start when a version is
// loaded. compute_infer is the Forward time of the batch each request ran
// in; input and output conversion are part of success, not counted apart.
func (s *Server) modelStatistics(w http.ResponseWriter, r *http.Request) {
	name, ver := r.PathValue("model"), r.PathValue("version")
	var versions []*version
	if name == "" {
		models := s.repo.current()
		for _, n := range slices.Sorted(mapKeys(models)) {
			versions = append(versions, models[n].served()...)
		}
	} else {
		v, err := s.repo.lookup(name, ver)
		if err != nil {
			writeError(w, reasonOf(err), err)
			return
		}
		v.release()
		if ver != "" {
			versions = []*version{v}
		} else {
			versions = s.repo.current()[name].served()
		}
	}
	out := make([]modelStats, 0, len(versions))
	for _, v := range versions {
		st := &v.stats
		m := modelStats{Name: v.model, Version: v.label, LastInference: st.last.Load(),
			InferenceCount: st.inferences.Load(), ExecutionCount: v.batch.executions.Load(), BatchStats: []any{}}
		m.InferenceStats.Success = st.success.json()
		m.InferenceStats.Fail = st.fail.json()
		m.InferenceStats.Queue = st.queue.json()
		m.InferenceStats.ComputeInfer = st.compute.json()
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_stats": out})
}
