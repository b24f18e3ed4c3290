// The start-up probe: what this browser and device can run. The runtime policy (backendOrder)
// turns it into the order execution providers are tried in; a software WebGPU adapter
// (SwiftShader) is never preferred (DESIGN.md, principle 7: measured here, it ran a tiny decoder
// ~50x slower than wasm).
import type { Backend, Capabilities } from '../protocol.js';

interface NavigatorMl {
  ml?: { createContext(options?: unknown): Promise<unknown> };
  gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null> };
  deviceMemory?: number;
}

// A minimal module using a SIMD instruction (v128.const + drop): validates only with SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 26, 11,
]);

export async function probeCapabilities(): Promise<Capabilities> {
  const nav = navigator as unknown as NavigatorMl;
  let webnn = false;
  try {
    if (nav.ml) {
      await nav.ml.createContext({ deviceType: 'cpu' });
      webnn = true;
    }
  } catch {
    webnn = false;
  }
  let webgpu = false;
  let fallback = false;
  try {
    const adapter = await nav.gpu?.requestAdapter();
    if (adapter) {
      webgpu = true;
      fallback = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
    }
  } catch {
    webgpu = false;
  }
  let opfs = false;
  try {
    opfs = typeof FileSystemSyncAccessHandle !== 'undefined' && !!navigator.storage?.getDirectory;
  } catch {
    opfs = false;
  }
  return {
    webnn,
    webgpu,
    webgpuFallbackAdapter: fallback,
    wasmSimd: WebAssembly.validate(SIMD_PROBE),
    wasmThreads: typeof SharedArrayBuffer !== 'undefined' && self.crossOriginIsolated,
    crossOriginIsolated: self.crossOriginIsolated,
    deviceMemoryGb: nav.deviceMemory ?? null,
    cores: navigator.hardwareConcurrency ?? 1,
    opfs,
  };
}

/** The order to try execution providers in: the requested one first (even if the probe says
 * no: then it fails and falls back, visibly), then the usable accelerators, then wasm. */
export function backendOrder(caps: Capabilities, prefer: Backend | null): Backend[] {
  const order: Backend[] = [];
  if (prefer) order.push(prefer);
  if (caps.webnn) order.push('webnn');
  if (caps.webgpu && !caps.webgpuFallbackAdapter) order.push('webgpu');
  order.push('wasm');
  return [...new Set(order)];
}
