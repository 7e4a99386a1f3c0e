#!/usr/bin/env bash
# shen serve under load beside FastAPI + uvicorn + PyTorch 1.13 on the same
# models (the MNIST MLP 784-512-256-10 and LeNet-5, same weights), in one
# run on one machine: throughput and p50/p99 latency at concurrency 1, 8
# and 64; Shen over HTTP JSON, HTTP binary tensor data and gRPC (raw
# contents), each with dynamic batching off and on; PyTorch over HTTP JSON.
# Both servers get the same CPU threads and one port each. Load comes from
# hey (HTTP, Debian) and ghz (gRPC: go install github.com/bojand/ghz/cmd/ghz@latest).
#
# usage: bench/serve.sh [seconds per point] [threads]     e.g. bench/serve.sh 3 2
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
threads=${2:-2}
concs=${CONCURRENCY:-1 8 64}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
ghz=$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")
command -v hey >/dev/null || { echo "hey is missing: apt-get install hey" >&2; exit 1; }

go build -o "$tmp/shen" ./cmd/shen
go run ./bench/servemodels -out "$tmp/repo"

# Request bodies: one 28x28 image (seeded noise) per request.
/usr/bin/python3 - "$tmp" <<'PY'
import base64, json, struct, sys, random
d = sys.argv[1]
random.seed(1)
row = [round(random.random(), 4) for _ in range(784)]
raw = struct.pack("<784f", *row)
for m, shape in (("mlp", [1, 784]), ("lenet", [1, 1, 28, 28])):
    inp = {"name": "input", "shape": shape, "datatype": "FP32"}
    out = [{"name": "probabilities"}]
    json.dump({"inputs": [dict(inp, data=row)], "outputs": out}, open(f"{d}/{m}.json", "w"))
    hdr = json.dumps({"inputs": [dict(inp, parameters={"binary_data_size": len(raw)})],
                      "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}]}).encode()
    open(f"{d}/{m}.bin", "wb").write(hdr + raw)
    open(f"{d}/{m}.hlen", "w").write(str(len(hdr)))
    json.dump({"model_name": m, "inputs": [inp], "outputs": out, "raw_input_contents": [base64.b64encode(raw).decode()]},
              open(f"{d}/{m}.grpc.json", "w"))
PY

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1/v2/health/ready" >/dev/null && return 0; sleep 0.1; done; echo "server on $1 never ready" >&2; exit 1; }

# hey URL CONC [extra hey args...] -> "rps p50_ms p99_ms non200"
run_hey() {
	local url=$1 c=$2; shift 2
	hey -z "${secs}s" -c "$c" -m POST "$@" "$url" > "$tmp/hey.out" 2>&1 || true
	/usr/bin/python3 - "$tmp/hey.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p = lambda q: re.search(rf"{q}% in ([\d.]+) secs", t)
ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", t))
total = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", t)) + sum(int(n) for n in re.findall(r"\]\s+(\d+)\s*$", t.split("Error distribution:")[-1], re.M)) * ("Error distribution:" in t)
print(f"{float(rps.group(1)) if rps else 0:.0f} {float(p(50).group(1))*1e3 if p(50) else 0:.2f} {float(p(99).group(1))*1e3 if p(99) else 0:.2f} {total-ok}")
PY
}

# ghz ADDR CONC FILE -> "rps p50_ms p99_ms non_ok"
run_ghz() {
	"$ghz" --insecure --call inference.GRPCInferenceService/ModelInfer -D "$3" -c "$2" -z "${secs}s" -O json "$1" > "$tmp/ghz.json" 2>/dev/null || true
	/usr/bin/python3 - "$tmp/ghz.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("0 0 0 -1"); sys.exit()
lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
# ghz closes its connections when the time is up, failing the calls still
# in flight ("the client connection is closing", "transport is closing"):
# those are the load generator's, not failures of the server.
bad = sum(n for k, n in (r.get("errorDistribution") or {}).items() if "closing" not in k)
print(f'{r.get("rps", 0):.0f} {lat.get(50, 0):.2f} {lat.get(99, 0):.2f} {bad}')
PY
}

table="$tmp/table"
printf "| server | model | protocol | batching | concurrency | infer/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|---|---|---|---|\n" > "$table"
row() { read -r rps p50 p99 bad <<<"$6"; printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$1" "$2" "$3" "$4" "$5" "$rps" "$p50" "$p99" "$bad" >> "$table"; }

hp=$(free_port); gp=$(free_port)
"$tmp/shen" serve --model-repository "$tmp/repo" --http-port "$hp" --grpc-port "$gp" --threads "$threads" --poll-interval 0s --log-level warn 2>"$tmp/shen.log" &
pids+=($!)
wait_ready "$hp"
for m in mlp lenet; do
	for b in off on; do
		name=$m; [ "$b" = off ] && name=${m}_nobatch
		for c in $concs; do
			echo "== shen $name c=$c" >&2
			row shen "$m" "HTTP JSON" "$b" "$c" "$(run_hey "http://127.0.0.1:$hp/v2/models/$name/infer" "$c" -T application/json -D "$tmp/$m.json")"
			row shen "$m" "HTTP binary" "$b" "$c" "$(run_hey "http://127.0.0.1:$hp/v2/models/$name/infer" "$c" -T application/octet-stream -H "Inference-Header-Content-Length: $(cat "$tmp/$m.hlen")" -D "$tmp/$m.bin")"
			if [ -x "$ghz" ]; then
				sed "s/\"model_name\": \"$m\"/\"model_name\": \"$name\"/" "$tmp/$m.grpc.json" > "$tmp/req.grpc.json"
				row shen "$m" "gRPC raw" "$b" "$c" "$(run_ghz "127.0.0.1:$gp" "$c" "$tmp/req.grpc.json")"
			fi
		done
	done
done
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

tp=$(free_port)
OMP_NUM_THREADS=$threads /usr/bin/python3 bench/serve_torch.py "$tmp/repo" "$tp" "$threads" 2>"$tmp/torch.log" &
pids+=($!)
wait_ready "$tp"
for m in mlp lenet; do
	for c in $concs; do
		echo "== fastapi+torch $m c=$c" >&2
		row "FastAPI+PyTorch" "$m" "HTTP JSON" off "$c" "$(run_hey "http://127.0.0.1:$tp/v2/models/$m/infer" "$c" -T application/json -D "$tmp/$m.json")"
	done
done

echo "== in-process forward of one MNIST row (the floor under the c=1 latency)" >&2
fwd=$(go test ./serve -run XXX -bench 'ForwardMLP' -benchtime 3000x 2>/dev/null | awk '/BenchmarkForwardMLP/ {print $3/1000}')
echo
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); threads $threads; $secs s per point"
echo "in-process MLP forward, one row: ${fwd} µs"
cat "$table"
