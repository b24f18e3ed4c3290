// The benchmark page (build/bench-web/index.html, served by cairn-server with the app's COOP/COEP
// headers): runs one suite in a fresh dedicated worker and hands the result to the runner
// (bench/browser/run.mjs calls window.cairnBench.run through Playwright).
import '../../pwa/src/trusted_types.js'; // the app's CSP requires its Trusted Types policy
import type { BenchReply, BenchRequest, MemoryReport, ProbeParams } from './protocol.js';

interface MemoryMeasurement {
  bytes: number;
  breakdown: { bytes: number; attribution: { scope?: string }[] }[];
}

async function measureMemory(): Promise<MemoryReport | null> {
  const perf = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<MemoryMeasurement> };
  if (!self.crossOriginIsolated || !perf.measureUserAgentSpecificMemory) return null;
  try {
    const m = await perf.measureUserAgentSpecificMemory();
    const workerBytes = m.breakdown
      .filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope'))
      .reduce((n, b) => n + b.bytes, 0);
    return { totalBytes: m.bytes, workerBytes };
  } catch (e) {
    return { totalBytes: 0, workerBytes: 0, error: String(e) };
  }
}

function ask(w: Worker, request: BenchRequest): Promise<unknown> {
  return new Promise((ok, fail) => {
    w.onerror = (e) => fail(new Error(`worker error: ${e.message}`));
    w.onmessage = (e: MessageEvent<BenchReply>) => {
      const m = e.data;
      if ('measure' in m) void measureMemory().then((memory) => w.postMessage({ memory }));
      else if (m.ok) ok(m.result);
      else fail(new Error(m.error));
    };
    w.postMessage(request);
  });
}

async function run(worker: string, request: BenchRequest): Promise<unknown> {
  const w = new Worker(worker, { type: 'module' });
  try {
    return await ask(w, request);
  } finally {
    w.terminate();
  }
}

/** The probe: every configuration loaded in a worker of its own, then `rounds` runs of each,
 * one run at a time round-robin. Returns, per configuration, what it loaded and its runs. */
async function probe(configs: { worker: string; params: ProbeParams }[], rounds: number) {
  const workers = configs.map((c) => new Worker(c.worker, { type: 'module' }));
  try {
    const opened: unknown[] = [];
    for (const [i, c] of configs.entries()) opened.push(await ask(workers[i]!, { suite: 'probe-open', params: c.params }));
    const runs: unknown[][] = configs.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, w] of workers.entries()) runs[i]!.push(await ask(w, { suite: 'probe-run' }));
    }
    return configs.map((c, i) => ({ ...c, opened: opened[i], runs: runs[i] }));
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Removes the OPFS folders a run left (the worker that held them is gone). */
async function clearOpfs(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for await (const [name] of root as unknown as AsyncIterable<[string, FileSystemHandle]>) {
    await root.removeEntry(name, { recursive: true }).catch(() => undefined);
  }
}

const env = () => ({
  crossOriginIsolated: self.crossOriginIsolated,
  hardwareConcurrency: navigator.hardwareConcurrency,
  userAgent: navigator.userAgent,
});

(window as unknown as { cairnBench: unknown }).cairnBench = { run, probe, clearOpfs, env };
document.body.dataset['ready'] = '1';
