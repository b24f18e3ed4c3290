// Where ONNX Runtime Web's time goes, without Cairn: the bare greedy loop alone on one model
// file, for the knobs that could explain the wasm-vs-native gap (ORT build, thread count,
// int8 vs fp32). The runner repeats every configuration in rounds, round-robin, so a busy
// neighbour on a shared machine slows all of them alike rather than one.
import * as ort from 'onnxruntime-web/all';
import type { PackSummary } from '../../pwa/src/worker/models.js';
import { BareDecoder } from './bare_decoder.js';
import type { SideStats } from './caption_suite.js';
import { stats } from './caption_suite.js';
import type { ProbeParams } from './protocol.js';

export interface ProbeResult extends SideStats {
  numThreads: number;
  ortWasm: string; // the runtime file this worker's ORT loaded
}

export async function probeSuite(p: ProbeParams): Promise<ProbeResult> {
  if (p.numThreads > 0) ort.env.wasm.numThreads = p.numThreads;
  ort.env.logLevel = 'error';
  const base = new URL(`models/${p.pack}/`, self.location.href);
  const manifest = (await (await fetch(new URL('manifest.json', base))).json()) as PackSummary;
  const variant = manifest.variants.find(
    (v) => v.runtime === 'ort-web' && v.precision === p.precision && v.execution_providers.includes('wasm'));
  if (!variant) throw new Error(`${manifest.id} has no ${p.precision} wasm variant`);
  const bytes = new Uint8Array(await (await fetch(new URL(variant.file, base))).arrayBuffer());
  const d = await BareDecoder.create(bytes, variant.inputs ?? [], 'wasm');
  const prompt = Array.from({ length: p.promptTokens }, (_, i) => 3 + (i % 50));
  const run = async () => {
    d.reset();
    const t0 = performance.now();
    let next = await d.next(prompt, 0);
    const stamps = [performance.now()];
    for (let i = 1; i < p.tokens; i++) {
      next = await d.next([next], prompt.length + i - 1);
      stamps.push(performance.now());
    }
    return { t0, stamps };
  };
  await run();
  const runs = [];
  for (let i = 0; i < p.runs; i++) runs.push(await run());
  await d.release();
  const ortWasm = performance.getEntriesByType('resource').map((e) => e.name).find((n) => /ort-wasm.*\.wasm$/.test(n)) ?? '';
  return {
    ...stats(runs.map((r) => r.stamps), runs.map((r) => r.t0)),
    numThreads: ort.env.wasm.numThreads ?? 0,
    ortWasm: ortWasm.replace(/^.*\//, ''),
  };
}
