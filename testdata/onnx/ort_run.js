// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node, CPU) for
// package onnx's tests and bench/onnx.sh. Inputs and outputs are raw
// little-endian files described by JSON, so no protobuf code is needed here.
//
//   node ort_run.js run   MODEL REQUEST.json OUTDIR   -> OUTDIR/response.json + output_N.bin
//   node ort_run.js bench MODEL REQUEST.json ITERS    -> {"ms_per_run": ...} on stdout
//                                                       (the fastest of 5 rounds of ITERS/5 runs)
//
// REQUEST.json: {"threads": 1, "inputs": [{"name": "x", "type": "float32"|"int64"|"string",
// "dims": [2, 3], "file": "/abs/path.bin"}]} (strings: a JSON array file).
// Find the module with NODE_PATH.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readInputs(req) {
  const feeds = {};
  for (const spec of req.inputs) {
    if (spec.type === 'string') { // a JSON array of strings
      feeds[spec.name] = new ort.Tensor('string', JSON.parse(fs.readFileSync(spec.file, 'utf8')), spec.dims);
      continue;
    }
    const buf = fs.readFileSync(spec.file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const data = spec.type === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab);
    feeds[spec.name] = new ort.Tensor(spec.type, data, spec.dims);
  }
  return feeds;
}

async function main() {
  const [mode, model, reqPath, arg] = process.argv.slice(2);
  const req = JSON.parse(fs.readFileSync(reqPath, 'utf8'));
  const threads = req.threads || 1;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = readInputs(req);
  if (mode === 'run') {
    const results = await session.run(feeds);
    const outputs = [];
    session.outputNames.forEach((name, i) => {
      const t = results[name];
      const file = path.join(arg, `output_${i}.bin`);
      fs.writeFileSync(file, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      outputs.push({name, type: t.type, dims: t.dims.map(Number), file});
    });
    fs.writeFileSync(path.join(arg, 'response.json'), JSON.stringify({outputs}));
    return;
  }
  if (mode === 'bench') {
    // The fastest of 5 rounds: on a shared machine the minimum is what
    // the code costs, the rest is other processes' time.
    const iters = Math.max(5, Number(arg) || 100);
    for (let i = 0; i < Math.min(10, iters); i++) await session.run(feeds);
    const per = Math.ceil(iters / 5);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < per; i++) await session.run(feeds);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6 / per);
    }
    process.stdout.write(JSON.stringify({ms_per_run: best}) + '\n');
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
