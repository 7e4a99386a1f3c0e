package monitor

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
)

//go:embed dashboard
var dashboardFiles embed.FS

// Routes mounts the monitoring endpoints on mux:
//
//	POST /v2/models/{model}[/versions/{version}]/feedback  ground truth: {"request_id": "...", "labels": [...]}
//	                                                       or {"feedback": [{"request_id": ..., "labels": [...]}, ...]}
//	GET  /v2/models/{model}[/versions/{version}]/alerts    the alert rules' states
//	GET  /v2/models/{model}[/versions/{version}]/monitor   the latest evaluation (Snapshot)
//	GET  /monitor/api/models                               every model's Snapshot (the dashboard's feed)
//	GET  /{$}                                              the dashboard; its files under /monitor/static/
//
// Without a version the highest served version answers.
func (h *Hub) Routes(mux *http.ServeMux) {
	for _, prefix := range []string{"/v2/models/{model}", "/v2/models/{model}/versions/{version}"} {
		mux.HandleFunc("POST "+prefix+"/feedback", h.handleFeedback)
		mux.HandleFunc("GET "+prefix+"/alerts", h.handleAlerts)
		mux.HandleFunc("GET "+prefix+"/monitor", h.handleSnapshot)
	}
	mux.HandleFunc("GET /monitor/api/models", h.handleModels)
	static, _ := fs.Sub(dashboardFiles, "dashboard")
	mux.Handle("GET /monitor/static/", http.StripPrefix("/monitor/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := dashboardFiles.ReadFile("dashboard/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
}

func (h *Hub) model(w http.ResponseWriter, r *http.Request) *Model {
	name, version := r.PathValue("model"), r.PathValue("version")
	m := h.Get(name, version)
	if m == nil {
		what := fmt.Sprintf("model %q", name)
		if version != "" {
			what += fmt.Sprintf(" version %q", version)
		}
		writeError(w, http.StatusNotFound, what+" is not monitored")
	}
	return m
}

// FeedbackItem is the ground truth of one request.
type FeedbackItem struct {
	RequestID string `json:"request_id"`
	Labels    []any  `json:"labels"`
}

// FeedbackResult answers POST .../feedback.
type FeedbackResult struct {
	Joined  int      `json:"joined"` // rows joined
	Unknown []string `json:"unknown,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// applyFeedback joins each item's labels to its request's predictions:
// what the HTTP endpoint and its gRPC twin share.
func applyFeedback(m *Model, items []FeedbackItem) FeedbackResult {
	var res FeedbackResult
	for i, it := range items {
		if it.RequestID == "" {
			res.Errors = append(res.Errors, fmt.Sprintf("feedback[%d]: request_id is empty", i))
			continue
		}
		n, err := m.Feedback(it.RequestID, it.Labels)
		switch {
		case errors.Is(err, ErrUnknownRequest):
			res.Unknown = append(res.Unknown, it.RequestID)
		case err != nil:
			res.Errors = append(res.Errors, err.Error())
		}
		res.Joined += n
	}
	return res
}

func (h *Hub) handleFeedback(w http.ResponseWriter, r *http.Request) {
	m := h.model(w, r)
	if m == nil {
		return
	}
	var body struct {
		FeedbackItem
		Feedback []FeedbackItem `json:"feedback"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "feedback body: "+err.Error())
		return
	}
	items := body.Feedback
	if body.RequestID != "" || body.Labels != nil {
		items = append(items, body.FeedbackItem)
	}
	if len(items) == 0 {
		writeError(w, http.StatusBadRequest, `feedback body: want {"request_id": ..., "labels": [...]} or {"feedback": [...]}`)
		return
	}
	res := applyFeedback(m, items)
	status := http.StatusOK
	switch {
	case res.Joined == 0 && len(res.Errors) > 0:
		status = http.StatusBadRequest
	case res.Joined == 0 && len(res.Unknown) > 0:
		status = http.StatusNotFound
	}
	writeJSON(w, status, res)
}

func (h *Hub) handleAlerts(w http.ResponseWriter, r *http.Request) {
	if m := h.model(w, r); m != nil {
		writeJSON(w, http.StatusOK, map[string]any{"model": m.Name, "version": m.Version, "alerts": m.Alerts()})
	}
}

func (h *Hub) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	if m := h.model(w, r); m != nil {
		writeJSON(w, http.StatusOK, m.Snapshot())
	}
}

func (h *Hub) handleModels(w http.ResponseWriter, r *http.Request) {
	out := []*Snapshot{}
	for _, m := range h.Models() {
		out = append(out, m.Snapshot())
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
