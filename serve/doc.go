// Package serve is Shen's model server: the Open Inference Protocol
// (KServe V2) over HTTP/REST and gRPC, the KServe V1 predict API for raw
// records, a Triton-style model repository, and a dynamic batcher per
// model version. `shen serve` is its command; Kubernetes and KServe scale
// it out.
//
// # Model repository
//
// A repository holds one folder per model and one numbered folder per
// version, each a Shen artifact (model.json, weights.safetensors,
// profile.json), with an optional config file beside the versions:
//
//	models/
//	  iris/
//	    config.yaml        # optional; see Config (Triton's field names)
//	    1/  model.json  weights.safetensors  profile.json
//	    2/  ...
//
// The repository is rescanned every Options.PollInterval (and on the
// repository API's load call). A new or changed version is loaded, answers
// a warm-up request, and is then published with one pointer swap; the
// versions it replaces finish the requests they hold before they stop, so
// a swap fails no request. A version that fails to load is logged, counted
// (shen_model_load_failures_total), listed in the repository index with
// the reason, and never replaces a version that works. Options.Model
// serves one artifact as version 1 with DefaultConfig.
//
// # Protocols
//
// V2 (HTTP, /v2/...; gRPC, inference.GRPCInferenceService) takes either
// the network's input tensor — the prepared features (for a table model,
// after its fitted preprocessing; for an image model, normalised pixels)
// of shape [N, InputShape...], in any numeric datatype or BOOL — or raw
// inputs that go through the artifact's preprocessing: a table model's
// columns, one tensor per signature input (numbers, or BYTES for text
// and categories), or an image model's encoded PNG/JPEG images as one
// BYTES tensor. Tensors come as JSON (flat or nested), binary tensor data
// or gRPC typed/raw contents. It answers
// with the raw outputs (the signature's output name, logits for a
// classifier) and the answers made of them: "probabilities", "class"
// (INT64) and "label" (BYTES) for a classifier, "value" for a regressor.
// V1 (POST /v1/models/{m}:predict, {"instances": [...]}) takes raw
// inputs through the artifact's fitted preprocessing: records of named
// features, time-ordered records for window models (one answer per
// window), base64 images, prompts for language models. Triton's model
// configuration (GET .../config) and statistics (GET .../stats)
// extensions are served too. Errors are {"error": "..."} with a status
// (or gRPC code) that says whose fault it was: 400 bad input, 404 unknown
// model or route, 405 wrong method, 413 too large, 429 queue full, 503 not
// ready, 504 deadline.
//
// # Dynamic batching
//
// Each model version has a bounded queue and Config.Instances workers.
// A worker takes the first waiting request and adds more until the rows
// reach max_batch_size or a preferred size, or the first request has
// waited max_queue_delay_microseconds; the batch is one Forward, split
// back per request. A full queue answers at once (429 /
// RESOURCE_EXHAUSTED). A request withdrawn by its client or deadline while
// it waits is skipped, never taking a batch slot; once its batch is
// running it waits for that one Forward.
//
// # Monitoring hook
//
// The monitor package plugs in through three Options fields:
//
//   - Observer receives every successful inference (model, version,
//     request id, the V1 records or the V2 input rows, the
//     *predict.Result) on its own goroutine through a bounded queue;
//     when it falls behind, observations are dropped and counted, never
//     delaying a request. A VersionObserver also hears when versions
//     load (with their artifact and config folder) and retire.
//   - Registry is the Prometheus registry the server registers its
//     metrics on and /metrics serves; the monitor adds its own series.
//   - Routes mounts extra handlers on the server's HTTP mux (feedback,
//     alerts, a dashboard at /), behind the same auth and request ids
//     (RequestID).
//
// # Operations
//
// Serve reports live at once and ready once every model has loaded; on
// shutdown it reports not ready, stops accepting, drains requests in
// flight within ShutdownTimeout, and stops the models. Options add a
// request size limit, a bearer token (health checks stay open for
// probes), TLS on both ports, and slog logs with request ids. Metrics are
// listed on the metrics type.
package serve
