// Where ONNX Runtime Web's time goes, without Cairn: the bare greedy loop alone on one model
// file, for the knobs that could explain the wasm-vs-native gap (ORT build, thread count,
// int8 vs fp32). Each configuration lives in its own worker (ORT's build and thread count are
// fixed per worker); the page runs them one run at a time, round-robin, so a busy neighbour on a
// shared machine slows all of them alike rather than one.
import * as ort from 'onnxruntime-web/all';
import type { PackSummary } from '../../pwa/src/worker/models.js';
import { BareDecoder } from './bare_decoder.js';
import type { ProbeParams } from './protocol.js';

export interface ProbeOpened {
  numThreads: number;
  ortWasm: string; // the runtime file this worker's ORT loaded
}

export interface ProbeRun {
  t0: number;
  stamps: number[]; // after each step
}

let probe: { params: ProbeParams; d: BareDecoder; prompt: number[] } | null = null;

/** Loads the model on this worker's ORT (its build and thread count) and keeps it for runs. */
export async function probeOpen(p: ProbeParams): Promise<ProbeOpened> {
  if (p.numThreads > 0) ort.env.wasm.numThreads = p.numThreads;
  ort.env.logLevel = 'error';
  const base = new URL(`models/${p.pack}/`, self.location.href);
  const manifest = (await (await fetch(new URL('manifest.json', base))).json()) as PackSummary;
  const variant = manifest.variants.find(
    (v) => v.runtime === 'ort-web' && v.precision === p.precision && v.execution_providers.includes('wasm'));
  if (!variant) throw new Error(`${manifest.id} has no ${p.precision} wasm variant`);
  const bytes = new Uint8Array(await (await fetch(new URL(variant.file, base))).arrayBuffer());
  const d = await BareDecoder.create(bytes, variant.inputs ?? [], 'wasm');
  probe = { params: p, d, prompt: Array.from({ length: p.promptTokens }, (_, i) => 3 + (i % 50)) };
  await probeRun(); // warm-up
  const ortWasm = performance.getEntriesByType('resource').map((e) => e.name).find((n) => /ort-wasm.*\.wasm$/.test(n)) ?? '';
  return { numThreads: ort.env.wasm.numThreads ?? 0, ortWasm: ortWasm.replace(/^.*\//, '') };
}

/** One greedy run: the prompt, then tokens - 1 single-token steps. */
export async function probeRun(): Promise<ProbeRun> {
  if (!probe) throw new Error('probeOpen first');
  const { d, prompt, params } = probe;
  d.reset();
  const t0 = performance.now();
  let next = await d.next(prompt, 0);
  const stamps = [performance.now()];
  for (let i = 1; i < params.tokens; i++) {
    next = await d.next([next], prompt.length + i - 1);
    stamps.push(performance.now());
  }
  return { t0, stamps };
}
