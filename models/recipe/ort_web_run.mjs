// Runs an ONNX graph on ONNX Runtime Web's wasm backend under Node (the same onnxruntime-web
// build and execution provider the app runs in the browser's worker), one image per run, for
// comparisons with native ONNX Runtime (tests/models/image_int8_test.py).
//
//   node ort_web_run.mjs MODEL.onnx INPUTS.f32 OUT_DIR --shape 224,224,3 --outputs a,b
//
// INPUTS.f32 holds N images back to back (raw little-endian float32, each of --shape, NHWC);
// each runs as a batch of one on the graph's first input. Writes OUT_DIR/<output>.f32 (every
// image's output back to back) and prints one JSON line: the onnxruntime-web version, the
// backend, the image count, session creation and per-run milliseconds.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

function die(msg) {
  process.stderr.write(`ort_web_run: ${msg}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const opt = (k) => {
  const i = args.indexOf(k);
  if (i < 0 || i + 1 >= args.length) die(`${k} is required`);
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const shape = opt('--shape').split(',').map(Number);
const outputs = opt('--outputs').split(',');
const [modelPath, inputsPath, outDir] = args;
if (!modelPath || !inputsPath || !outDir || shape.some((d) => !(d > 0))) {
  die('usage: node ort_web_run.mjs MODEL.onnx INPUTS.f32 OUT_DIR --shape H,W,C --outputs a,b');
}

const raw = readFileSync(inputsPath);
const per = shape.reduce((a, b) => a * b, 1);
if (raw.length % (per * 4) !== 0) die(`${inputsPath}: ${raw.length} bytes is not a whole number of ${shape} float32 images`);
const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const n = all.length / per;

// One thread, as the app's default picks on a 2-core device; no proxy worker under Node.
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const t0 = performance.now();
const session = await ort.InferenceSession.create(readFileSync(modelPath), {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
});
const loadMs = performance.now() - t0;
const input = session.inputNames[0];
for (const o of outputs) if (!session.outputNames.includes(o)) die(`${modelPath} has no output ${o} (it has ${session.outputNames})`);

const chunks = Object.fromEntries(outputs.map((o) => [o, []]));
const times = [];
for (let i = 0; i < n; i++) {
  const x = new ort.Tensor('float32', all.subarray(i * per, (i + 1) * per), [1, ...shape]);
  const t = performance.now();
  const out = await session.run({ [input]: x });
  times.push(performance.now() - t);
  for (const o of outputs) chunks[o].push(Buffer.from(new Float32Array(out[o].data).buffer));
  for (const v of Object.values(out)) v.dispose();
}
await session.release();
mkdirSync(outDir, { recursive: true });
for (const o of outputs) writeFileSync(join(outDir, `${o}.f32`), Buffer.concat(chunks[o]));
times.sort((a, b) => a - b);
console.log(JSON.stringify({
  onnxruntime_web: ort.env.versions?.web ?? ort.env.versions?.common, backend: 'wasm', threads: 1, images: n,
  session_ms: Math.round(loadMs), run_ms_p50: Math.round(times[Math.floor(n / 2)] * 10) / 10,
}));
