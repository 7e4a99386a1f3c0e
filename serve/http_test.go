package serve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// call does one HTTP request and decodes a JSON answer.
func call(t testing.TB, method, url, body string, hdr map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, url, err, b)
		}
	} else if len(b) > 0 && b[0] == '[' {
		var list []any
		json.Unmarshal(b, &list)
		out = map[string]any{"list": list}
	}
	return resp.StatusCode, out, resp.Header
}

var irisRows = []float32{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 3.0, 4.2, 1.5}

func floatsOf(t testing.TB, v any) []float32 {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("data is %T, want a list", v)
	}
	out := make([]float32, len(list))
	for i, e := range list {
		out[i] = float32(e.(float64))
	}
	return out
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestV2Endpoints(t *testing.T) {
	root, _ := repoWith(t, "iris", "", 1, 2)
	ts := startServer(t, Options{ModelRepository: root})
	u := ts.url
	cases := []struct {
		method, path string
		status       int
		check        func(map[string]any) bool
	}{
		{"GET", "/v2", 200, func(m map[string]any) bool { return m["name"] == "shen" && len(m["extensions"].([]any)) > 0 }},
		{"GET", "/v2/health/live", 200, func(m map[string]any) bool { return m["live"] == true }},
		{"GET", "/v2/health/ready", 200, func(m map[string]any) bool { return m["ready"] == true }},
		{"GET", "/v2/models/iris", 200, func(m map[string]any) bool {
			in := m["inputs"].([]any)[0].(map[string]any)
			return m["name"] == "iris" && m["platform"] == "shen" && fmt.Sprint(m["versions"]) == "[2]" &&
				in["name"] == "input" && fmt.Sprint(in["shape"]) == "[-1 4]"
		}},
		{"GET", "/v2/models/iris/versions/2", 200, func(m map[string]any) bool { return m["name"] == "iris" }},
		{"GET", "/v2/models/iris/versions/1", 503, func(m map[string]any) bool { return strings.Contains(m["error"].(string), "version 1 is not served") }},
		{"GET", "/v2/models/iris/ready", 200, func(m map[string]any) bool { return m["ready"] == true }},
		{"GET", "/v2/models/iris/config", 200, func(m map[string]any) bool {
			return m["name"] == "iris" && m["max_batch_size"] == float64(64) && m["dynamic_batching"] != nil
		}},
		{"GET", "/v2/models/iris/versions/2/ready", 200, func(m map[string]any) bool { return m["ready"] == true }},
		{"GET", "/v2/models/iris/versions/7/ready", 503, func(m map[string]any) bool { return m["ready"] == false }},
		{"GET", "/v2/models/nope", 404, func(m map[string]any) bool { return strings.Contains(m["error"].(string), `unknown model "nope"`) }},
		{"GET", "/v2/models/nope/ready", 404, func(m map[string]any) bool { return m["error"] != nil }},
		{"GET", "/v3/nothing", 404, func(m map[string]any) bool { return m["error"] == "GET /v3/nothing: not found" }},
		{"DELETE", "/v2/models/iris", 405, func(m map[string]any) bool { return m["error"] == "DELETE /v2/models/iris: method not allowed" }},
		{"POST", "/v2/repository/index", 200, func(m map[string]any) bool {
			l := m["list"].([]any)
			e := l[0].(map[string]any)
			return len(l) == 1 && e["name"] == "iris" && e["version"] == "2" && e["state"] == "READY"
		}},
	}
	for _, c := range cases {
		status, body, _ := call(t, c.method, u+c.path, "", nil)
		if status != c.status || !c.check(body) {
			t.Errorf("%s %s: %d %v, want %d and a body that passes the check", c.method, c.path, status, body, c.status)
		}
	}
}

func TestInferJSON(t *testing.T) {
	root, models := repoWith(t, "iris", "", 1)
	ts := startServer(t, Options{ModelRepository: root})
	want := forward(models[1], irisRows, 3)
	nested := `{"id":"req-7","inputs":[{"name":"input","shape":[3,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3],[5.9,3.0,4.2,1.5]]}]}`
	flat := `{"inputs":[{"name":"input","shape":[3,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3,5.9,3.0,4.2,1.5]}]}`
	for i, body := range []string{nested, flat} {
		status, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", body, nil)
		if status != 200 {
			t.Fatalf("request %d: %d %v", i, status, resp)
		}
		out := resp["outputs"].([]any)[0].(map[string]any)
		if got := floatsOf(t, out["data"]); !near(got, want) {
			t.Errorf("request %d: outputs %v, the model's forward gives %v", i, got, want)
		}
		if fmt.Sprint(out["shape"]) != "[3 3]" || out["datatype"] != "FP32" || resp["model_version"] != "1" {
			t.Errorf("request %d: output %v", i, resp)
		}
		if i == 0 && resp["id"] != "req-7" {
			t.Errorf("id %v not echoed", resp["id"])
		}
	}
	// Statistics: two requests of three rows so far, none failed.
	call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[]}`, nil)
	status, stats, _ := call(t, "GET", ts.url+"/v2/models/iris/stats", "", nil)
	ms := stats["model_stats"].([]any)[0].(map[string]any)
	is := ms["inference_stats"].(map[string]any)
	if status != 200 || ms["inference_count"] != float64(6) || ms["execution_count"] != float64(2) ||
		is["success"].(map[string]any)["count"] != float64(2) || is["fail"].(map[string]any)["count"] != float64(1) ||
		is["compute_infer"].(map[string]any)["ns"].(float64) <= 0 || ms["last_inference"].(float64) <= 0 {
		t.Errorf("stats: %d %v", status, stats)
	}
	if status, all, _ := call(t, "GET", ts.url+"/v2/models/stats", "", nil); status != 200 || len(all["model_stats"].([]any)) != 1 {
		t.Errorf("all stats: %d %v", status, all)
	}
	// Every integer datatype and BOOL are read as numbers.
	for _, dt := range []string{"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "BOOL"} {
		data := "[1,0,1,1]"
		if dt == "BOOL" {
			data = "[true,false,true,true]"
		}
		body := `{"inputs":[{"name":"input","shape":[1,4],"datatype":"` + dt + `","data":` + data + `}]}`
		status, resp, _ := call(t, "POST", ts.url+"/v2/models/iris/versions/1/infer", body, nil)
		if status != 200 {
			t.Fatalf("%s: %d %v", dt, status, resp)
		}
		got := floatsOf(t, resp["outputs"].([]any)[0].(map[string]any)["data"])
		if want := forward(models[1], []float32{1, 0, 1, 1}, 1); !near(got, want) {
			t.Errorf("%s: %v, want %v", dt, got, want)
		}
	}
}

// binaryRequest builds a binary tensor data extension body.
func binaryRequest(header string, data []byte) ([]byte, map[string]string) {
	body := append([]byte(header), data...)
	return body, map[string]string{headerLength: strconv.Itoa(len(header)), "Content-Type": "application/octet-stream"}
}

func le32(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestInferBinary(t *testing.T) {
	root, models := repoWith(t, "iris", "", 1)
	ts := startServer(t, Options{ModelRepository: root})
	want := forward(models[1], irisRows, 3)
	header := `{"inputs":[{"name":"input","shape":[3,4],"datatype":"FP32","parameters":{"binary_data_size":48}}],` +
		`"outputs":[{"name":"output","parameters":{"binary_data":true}}]}`
	body, hdr := binaryRequest(header, le32(irisRows))
	req, _ := http.NewRequest("POST", ts.url+"/v2/models/iris/infer", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	hl, err := strconv.Atoi(resp.Header.Get(headerLength))
	if err != nil || hl > len(b) {
		t.Fatalf("%s is %q for a %d-byte body", headerLength, resp.Header.Get(headerLength), len(b))
	}
	var h map[string]any
	if err := json.Unmarshal(b[:hl], &h); err != nil {
		t.Fatalf("header: %v: %s", err, b[:hl])
	}
	out := h["outputs"].([]any)[0].(map[string]any)
	if size := out["parameters"].(map[string]any)["binary_data_size"]; size != float64(36) || out["data"] != nil {
		t.Fatalf("output %v, want binary_data_size 36 and no data", out)
	}
	got := make([]float32, 9)
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[hl+4*i:]))
	}
	if !near(got, want) || len(b) != hl+36 {
		t.Errorf("binary outputs %v (body %d bytes), want %v", got, len(b), want)
	}
	// FP64 and INT8 binary inputs, JSON output.
	f64 := make([]byte, 8*4)
	for i, v := range []float64{5.1, 3.5, 1.4, 0.2} {
		binary.LittleEndian.PutUint64(f64[8*i:], math.Float64bits(v))
	}
	body, hdr = binaryRequest(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}]}`, f64)
	status, r, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", string(body), hdr)
	if g := floatsOf(t, r["outputs"].([]any)[0].(map[string]any)["data"]); status != 200 || !near(g, forward(models[1], irisRows[:4], 1)) {
		t.Errorf("FP64 binary: %d %v", status, r)
	}
	body, hdr = binaryRequest(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT8","parameters":{"binary_data_size":4}}]}`, []byte{1, 255, 2, 0})
	status, r, _ = call(t, "POST", ts.url+"/v2/models/iris/infer", string(body), hdr)
	if g := floatsOf(t, r["outputs"].([]any)[0].(map[string]any)["data"]); status != 200 || !near(g, forward(models[1], []float32{1, -1, 2, 0}, 1)) {
		t.Errorf("INT8 binary: %d %v", status, r)
	}
}

func TestInferErrors(t *testing.T) {
	root, _ := repoWith(t, "iris", "", 1)
	ts := startServer(t, Options{ModelRepository: root, MaxRequestBytes: 4096})
	ok := `{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}`
	bin := func(h string, data []byte) (string, map[string]string) {
		b, hdr := binaryRequest(h, data)
		return string(b), hdr
	}
	truncBody, truncHdr := bin(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, make([]byte, 12))
	nanBody, nanHdr := bin(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, le32([]float32{1, float32(math.NaN()), 0, 0}))
	cases := []struct {
		name, path, body string
		hdr              map[string]string
		status           int
		says             string
	}{
		{"malformed JSON", "iris", `{"inputs":[`, nil, 400, "request JSON"},
		{"unknown model", "nope", `{"inputs":[` + ok + `]}`, nil, 404, `unknown model "nope"`},
		{"unknown version", "iris/versions/9", `{"inputs":[` + ok + `]}`, nil, 503, "version 9 is not served"},
		{"wrong tensor name", "iris", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, nil, 400, `input "x" is not an input`},
		{"wrong shape", "iris", `{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]}`, nil, 400, "has shape [1 5]"},
		{"wrong count", "iris", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}`, nil, 400, "holds 4 elements; its shape says 8"},
		{"unknown datatype", "iris", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP8","data":[1,2,3,4]}]}`, nil, 400, `datatype "FP8"`},
		{"out of range", "iris", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT8","data":[1,2,3,400]}]}`, nil, 400, "400 is not a valid INT8"},
		{"fraction in INT32", "iris", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT32","data":[1,2,3,4.5]}]}`, nil, 400, "4.5 is not a valid INT32"},
		{"string in FP32", "iris", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,"3",4]}]}`, nil, 400, "element 2 is a string"},
		{"BYTES to a numeric model", "iris", `{"inputs":[{"name":"input","shape":[1],"datatype":"BYTES","data":["a"]}]}`, nil, 400, "is BYTES"},
		{"two inputs", "iris", `{"inputs":[` + ok + `,` + ok + `]}`, nil, 400, "the request has 2"},
		{"no inputs", "iris", `{"inputs":[]}`, nil, 400, "no inputs"},
		{"unknown output", "iris", `{"inputs":[` + ok + `],"outputs":[{"name":"probs"}]}`, nil, 400, `output "probs" is not an output`},
		{"truncated binary", "iris", truncBody, truncHdr, 400, "binary_data_size is 16 but 12 bytes"},
		{"NaN", "iris", nanBody, nanHdr, 400, "element 1 is NaN"},
		{"bad header length", "iris", `{}`, map[string]string{headerLength: "99"}, 400, headerLength},
		{"oversized body", "iris", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[` + strings.Repeat("1,", 3000) + `1]}]}`, nil, 413, "4096-byte limit"},
		{"bad timeout", "iris", `{"parameters":{"timeout":-5},"inputs":[` + ok + `]}`, nil, 400, "timeout"},
	}
	for _, c := range cases {
		status, body, _ := call(t, "POST", ts.url+"/v2/models/"+c.path+"/infer", c.body, c.hdr)
		msg, _ := body["error"].(string)
		if status != c.status || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %d %q, want %d naming %q", c.name, status, msg, c.status, c.says)
		}
	}
	// The server is still well after all that.
	if status, body, _ := call(t, "POST", ts.url+"/v2/models/iris/infer", `{"inputs":[`+ok+`]}`, nil); status != 200 {
		t.Fatalf("after the bad requests: %d %v", status, body)
	}
}
