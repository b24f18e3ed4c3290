// Captions in the browser: Cairn's engine (the core's step machine driven by the app's own loop,
// caption_loop.ts, on ort_driver.ts's session) vs a bare onnxruntime-web greedy loop
// (bare_decoder.ts) on the same model file, provider and thread count — plus model load cold
// and warm (Cairn: download, verify, encrypt into the vault; then decrypt and create the
// session) vs plain ORT loading the same file from a URL.
import * as ort from 'onnxruntime-web/all';
import type { Capabilities } from '../../pwa/src/protocol.js';
import { probeCapabilities } from '../../pwa/src/worker/capabilities.js';
import { runCaption } from '../../pwa/src/worker/caption_loop.js';
import { Core } from '../../pwa/src/worker/core.js';
import type { LoadedModel, PackSummary } from '../../pwa/src/worker/models.js';
import { Models } from '../../pwa/src/worker/models.js';
import { OpfsPool } from '../../pwa/src/worker/opfs_pool.js';
import { BareDecoder } from './bare_decoder.js';
import type { CaptionParams, MemoryReport } from './protocol.js';


export interface SideStats {
  runs: number;
  tokens: number; // per run
  tokensPerSecond: number; // median over runs of (tokens - 1) / decode time
  ttftMs: number; // median: start to the first token (prompt processing included)
  p50Ms: number; // per decode step, over every run
  p95Ms: number;
}

export interface CaptionSuiteResult {
  modelId: string;
  variant: string;
  file: string;
  backend: string; // what actually ran the engine
  fallbacks: { backend: string; error: string }[];
  numThreads: number; // ort.env.wasm.numThreads in effect
  promptTokens: number;
  multiTokenSteps: number; // engine steps after the prompt that fed more than one token
  engine: SideStats;
  bare: SideStats;
  load: {
    repeats: number; cairnColdMs: number; cairnWarmMs: number; ortColdMs: number; ortWarmMs: number;
    vaultReadMs: number;
    cairnInstallMs: number; // of the cold load: download, verify and encrypt into the vault
  };
  cairnWasmHeapBytes: number;
  memory: MemoryReport | null;
}


// Five captions: enough tokens per run for per-token figures (the starter stops after ~26 on two).
const REQUEST = JSON.stringify({
  task: 'Write 5 Instagram captions', context: 'photo: dog at the beach at sunset; tags: dog, beach, summer',
  style: 'playful, short, one emoji each', output_format: '', count: 5, max_chars: 150,
  max_hashtags: 3, emoji_required: false, banned: [], preset: 'low', seed: 7,
});

const median = (xs: number[]) => quantile(xs, 0.5);
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
}

export function stats(runs: number[][], t0s: number[]): SideStats {
  const steps = runs.flatMap((r) => r.slice(1).map((t, i) => t - r[i]!));
  return {
    runs: runs.length,
    tokens: runs[0]?.length ?? 0,
    tokensPerSecond: median(runs.map((r) => (r.length - 1) / ((r[r.length - 1]! - r[0]!) / 1000))),
    ttftMs: median(runs.map((r, i) => r[0]! - t0s[i]!)),
    p50Ms: quantile(steps, 0.5),
    p95Ms: quantile(steps, 0.95),
  };
}

/** `measure` asks the page for the origin's memory (performance.measureUserAgentSpecificMemory
 * is the page's to call); it runs while both sessions are loaded and the runs' buffers live. */
export async function captionSuite(
  p: CaptionParams, measure: () => Promise<MemoryReport | null>,
): Promise<CaptionSuiteResult> {
  if (p.numThreads > 0) ort.env.wasm.numThreads = p.numThreads;
  ort.env.logLevel = 'error'; // not the node-placement warnings, on every session
  const base = new URL(`models/${p.pack}/`, self.location.href);
  const manifest = (await (await fetch(new URL('manifest.json', base))).json()) as PackSummary;
  const variant = manifest.variants.find(
    (v) => v.runtime === 'ort-web' && v.precision === p.precision && v.execution_providers.includes(p.backend));
  if (!variant) throw new Error(`${manifest.id} has no ${p.precision} variant for ${p.backend}`);
  const fileUrl = new URL(variant.file, base);

  // ONNX Runtime Web's one-time start (fetching and compiling its wasm) and, on WebGPU, the
  // compilation of the model's shader pipelines (kept by the device for later sessions) are
  // paid here, untimed, by one session and one step: otherwise the side measured first pays them.
  const first = new Uint8Array(await (await fetch(fileUrl, { cache: 'no-store' })).arrayBuffer());
  const start = await BareDecoder.create(first, variant.inputs ?? [], p.backend);
  await start.next([0], 0);
  await start.release();

  const pool = await OpfsPool.open(p.dir);
  pool.wipe();
  const core = await Core.load(pool);
  // The runtime policy picks the variant from the capabilities (models.ts): steer it to the one
  // measured here — WebGPU "usable" selects the fp32 file, no WebGPU the smallest (int8).
  const probed = await probeCapabilities();
  const caps: Capabilities = {
    ...probed, webnn: false, webgpu: p.precision === 'fp32', webgpuFallbackAdapter: false,
  };

  // Model load, p.loads times each (medians: one load is at the mercy of a shared machine). Cairn
  // cold: a fresh vault, download + verify + encrypt, then decrypt + session + warm-up run;
  // warm: unload, then decrypt + session + warm-up run again. Plain ORT: fetch the unencrypted
  // file, session, warm-up run (ort_driver.ts makes one too); cold: the first fetch ('no-store'),
  // warm: fetched again from localhost.
  const ortLoad = async (cache: RequestCache) => {
    const t1 = performance.now();
    const bytes = new Uint8Array(await (await fetch(fileUrl, { cache })).arrayBuffer());
    const d = await BareDecoder.create(bytes, variant.inputs ?? [], p.backend);
    await d.next([0], 0);
    d.reset();
    return { d, ms: performance.now() - t1 };
  };
  const loads = { cairnInstall: [] as number[], cairnCold: [] as number[], cairnWarm: [] as number[], ortCold: [] as number[], ortWarm: [] as number[] };
  let models: Models | null = null;
  let model: LoadedModel | null = null;
  let bare: BareDecoder | null = null;
  let lastVault = 0;
  for (let i = 0; i < p.loads; i++) {
    models?.unloadAll();
    await bare?.release();
    const vault = core.withStrings([`/vault-${i}`, 'bench passphrase'], ([d, q]) => core.out('vault_create', d!, q!));
    await pool.topUp();
    lastVault = vault;
    models = new Models(core, p.trustedKeys, () => caps);
    // The cold load starts at the Install click: the offer (with its size) is already listed.
    await models.list(vault);
    let t = performance.now();
    await models.install(vault, manifest.id, () => undefined);
    await pool.topUp();
    loads.cairnInstall.push(performance.now() - t);
    await models.captionModel(vault, manifest.id, p.backend);
    loads.cairnCold.push(performance.now() - t);
    models.unload(manifest.id);
    t = performance.now();
    model = await models.captionModel(vault, manifest.id, p.backend);
    loads.cairnWarm.push(performance.now() - t);
    const cold = await ortLoad('no-store');
    loads.ortCold.push(cold.ms);
    await cold.d.release();
    const warm = await ortLoad('default');
    loads.ortWarm.push(warm.ms);
    bare = warm.d;
  }

  // Diagnostic: of the warm load, the part that is the vault's (verify the stored manifest,
  // decrypt and hash-check the model file into wasm memory, copy it out), the rest being ORT's
  // session and the core's tokenizer and decoding tables (caption_model_create).
  const vaultRead = () => {
    const slot = core.fn('malloc')(8);
    const t1 = performance.now();
    try {
      core.withStrings([manifest.id, p.trustedKeys], ([i, k]) =>
        core.check(core.fn('pack_open_installed')(lastVault, i!, k!, slot, slot + 4)));
      const pack = core.m.HEAP32[slot >> 2]!;
      core.fn('free')(core.m.HEAP32[(slot + 4) >> 2]!);
      core.withStrings([variant.file], ([n]) => core.check(core.fn('pack_read_file')(lastVault, pack, n!, slot, slot + 4)));
      const ptr = core.m.HEAP32[slot >> 2]!;
      core.m.HEAPU8.slice(ptr, ptr + (core.m.HEAP32[(slot + 4) >> 2]! >>> 0));
      core.fn('free')(ptr);
      core.fn('pack_close')(pack);
      return performance.now() - t1;
    } finally {
      core.fn('free')(slot);
    }
  };
  const vaultReadMs = median([vaultRead(), vaultRead(), vaultRead()]);

  // One engine run records the prompt and the feed sizes the bare loop then repeats.
  let prompt: Int32Array | null = null;
  const feedSizes: number[] = [];
  // A cap on steps (for WebGPU on a software adapter, ~1 token/s) stops the run from the step
  // hook: runCaption closes the session on the way out.
  const stop = new Error('enough steps');
  const engineRun = async () => {
    const stamps: number[] = [];
    const t0 = performance.now();
    try {
      await runCaption(core, model!, REQUEST, {
        step: (ids) => {
          stamps.push(performance.now());
          if (!prompt) prompt = ids.slice();
          if (feedSizes.length < stamps.length) feedSizes.push(ids.length);
          if (p.maxSteps > 0 && stamps.length >= p.maxSteps) throw stop;
        },
      });
    } catch (e) {
      if (e !== stop) throw e;
    }
    return { t0, stamps };
  };
  const bareRun = async () => {
    const stamps: number[] = [];
    const t0 = performance.now();
    bare!.reset();
    let past = 0;
    let next = await bare!.next(prompt!, 0);
    stamps.push(performance.now());
    past += prompt!.length;
    for (let i = 1; i < feedSizes.length; i++) {
      const ids = new Array<number>(feedSizes[i]!).fill(next);
      next = await bare!.next(ids, past);
      past += ids.length;
      stamps.push(performance.now());
    }
    return { t0, stamps };
  };
  for (let i = 0; i < Math.max(1, p.warmup); i++) {
    await engineRun();
    await bareRun();
  }
  // Alternate the two so drift on a shared machine falls on both alike.
  const e: { t0: number; stamps: number[] }[] = [];
  const b: { t0: number; stamps: number[] }[] = [];
  const started = performance.now();
  for (let i = 0; i < p.runs && (i < 2 || !p.budgetMs || performance.now() - started < p.budgetMs); i++) {
    e.push(await engineRun());
    b.push(await bareRun());
  }
  const heap = core.m.HEAPU8.buffer.byteLength;
  const memory = await measure();
  await bare!.release();
  return {
    modelId: manifest.id,
    variant: variant.name,
    file: variant.file,
    backend: model!.decoder.backend,
    fallbacks: model!.decoder.attempts,
    numThreads: ort.env.wasm.numThreads ?? 0,
    promptTokens: (prompt as Int32Array | null)?.length ?? 0,
    multiTokenSteps: feedSizes.slice(1).filter((n) => n !== 1).length,
    engine: stats(e.map((r) => r.stamps), e.map((r) => r.t0)),
    bare: stats(b.map((r) => r.stamps), b.map((r) => r.t0)),
    load: {
      repeats: p.loads, cairnColdMs: median(loads.cairnCold), cairnWarmMs: median(loads.cairnWarm),
      ortColdMs: median(loads.ortCold), ortWarmMs: median(loads.ortWarm), vaultReadMs,
      cairnInstallMs: median(loads.cairnInstall),
    },
    cairnWasmHeapBytes: heap,
    memory,
  };
}
