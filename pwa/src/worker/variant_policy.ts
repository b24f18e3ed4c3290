// Which of a pack's variants this device runs (the runtime policy's second half; the first,
// backendOrder in capabilities.ts, orders the execution providers). A pack names its variants
// for the backend they are made for — native-fp32, wasm-int8 (weights int8: a quarter of the
// download, for the CPU-bound wasm backend), webgpu-fp32 (GPU kernels want fp32) — and lists in
// execution_providers where each can run, its own backend first.
import type { Backend } from '../protocol.js';
import type { TensorSpec } from './ort_driver.js';

export interface VariantSummary {
  name: string;
  runtime: string;
  precision: string;
  execution_providers: string[];
  file: string;
  inputs?: TensorSpec[];
}

/** The web variants in the order this device should try them: for each backend in `order`,
 * first the variants made for it (their first execution provider), then those that can also
 * run on it as a fallback; smallest file first within each. So the wasm backend gets wasm-int8
 * even where an fp32 variant also lists wasm, and WebGPU gets webgpu-fp32. */
export function variantPreference(
  pack: { files: { name: string; size: number }[]; variants: VariantSummary[] },
  order: Backend[],
): VariantSummary[] {
  const size = (v: VariantSummary) => pack.files.find((f) => f.name === v.file)?.size ?? Infinity;
  const web = pack.variants.filter((v) => v.runtime === 'ort-web');
  const out: VariantSummary[] = [];
  for (const b of order) {
    const madeFor = web.filter((v) => v.execution_providers[0] === b);
    const fallback = web.filter((v) => v.execution_providers[0] !== b && v.execution_providers.includes(b));
    for (const group of [madeFor, fallback]) {
      for (const v of [...group].sort((x, y) => size(x) - size(y))) if (!out.includes(v)) out.push(v);
    }
  }
  return out;
}
