package serve

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzDecodeJSONNumbers: any data either decodes to exactly the count the
// shape says, every value within the datatype's range, or is an error.
func FuzzDecodeJSONNumbers(f *testing.F) {
	for _, s := range []string{`[1,2,3,4]`, `[[1,2],[3,4]]`, `[true,false,1,0]`, `[1e3,-2.5e-3,0,7]`, `[1,2,3]`, `[1,2,3,4,5]`,
		`[[1,2],[3,4]`, `["a",1,2,3]`, `[null,1,2,3]`, `{"a":1}`, `[1e400,1,2,3]`, `[-,1,2,3]`, `[1.5,2,3,4]`, ``} {
		f.Add([]byte(s), uint8(dtFP32))
		f.Add([]byte(s), uint8(dtInt8))
		f.Add([]byte(s), uint8(dtBool))
	}
	f.Fuzz(func(t *testing.T, raw []byte, d uint8) {
		dt := datatype(d%uint8(dtBytes-1)) + 1
		dst := make([]float32, 4)
		if err := decodeJSONNumbers("x", raw, dt, dst); err != nil {
			return
		}
		lo, hi, _ := dt.bounds()
		for i, v := range dst {
			if float64(v) < lo-1 || float64(v) > hi+1 && dt != dtUint64 && dt != dtInt64 {
				t.Fatalf("%s element %d decoded to %v outside [%v, %v] from %q", dt, i, v, lo, hi, raw)
			}
		}
	})
}

// FuzzInferRequest sends arbitrary JSON headers and binary data to a V2
// infer handler: the answer is 200 or a 4xx JSON error, never a panic or a
// 5xx, and the server keeps answering.
func FuzzInferRequest(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "iris")
	saveMLP(f, dir, 1)
	s, err := New(Options{Model: dir})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.repo.Scan(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.repo.close)
	seeds := []struct {
		header string
		bin    []byte
	}{
		{`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, nil},
		{`{"id":"a","inputs":[{"name":"input","shape":[2,4],"datatype":"INT16","data":[[1,2,3,4],[5,6,7,8]]}],"outputs":[{"name":"label","parameters":{"binary_data":true}}]}`, nil},
		{`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, make([]byte, 16)},
		{`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP16","parameters":{"binary_data_size":8}}],"parameters":{"binary_data_output":true}}`, []byte{0, 60, 0, 60, 0, 0, 0, 188}},
		{`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":17}}]}`, make([]byte, 16)},
		{`{"inputs":[{"name":"input","shape":[-1,4],"datatype":"FP32","data":[]}]}`, nil},
		{`{"inputs":[{"name":"input","shape":[99999999999,4],"datatype":"FP32","data":[1]}]}`, nil},
		{`{"inputs":[{"name":"input","shape":[1,4],"datatype":"BYTES","data":["a","b","c","d"]}]}`, nil},
		{`{"parameters":{"timeout":"x"},"inputs":[]}`, nil},
		{`not json`, []byte{1, 2}},
	}
	for _, sd := range seeds {
		f.Add([]byte(sd.header), sd.bin)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, header, bin []byte) {
		req := httptest.NewRequest("POST", "/v2/models/iris/infer", bytes.NewReader(append(append([]byte(nil), header...), bin...)))
		if len(bin) > 0 {
			req.Header.Set(headerLength, strconv.Itoa(len(header)))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d for %q + %d bytes: %s", w.Code, header, len(bin), w.Body)
		}
		if w.Code != http.StatusOK && !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"error":`)) {
			t.Fatalf("error body %s", w.Body)
		}
	})
}
