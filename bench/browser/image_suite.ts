// The image packs in the browser: the app's photo path (photo.ts: the pack installed into the
// vault, loaded through models.ts, the photo resized as the manifest says, run, post-processed)
// vs a bare onnxruntime-web session on the same file and provider running the same input tensor,
// on wasm or WebGPU. Per model and backend: load cold and warm, and p50/p95 over `runs` runs
// after `warmup` (the two sides alternating, so drift on a shared machine falls on both alike).
import * as ort from 'onnxruntime-web/all';
import type { Capabilities } from '../../pwa/src/protocol.js';
import { probeCapabilities } from '../../pwa/src/worker/capabilities.js';
import { Core } from '../../pwa/src/worker/core.js';
import { resizeBilinearRgb } from '../../pwa/src/worker/image_prep.js';
import type { LoadedImageModel, PackSummary } from '../../pwa/src/worker/models.js';
import { Models } from '../../pwa/src/worker/models.js';
import { OpfsPool } from '../../pwa/src/worker/opfs_pool.js';
import type { Pixels } from '../../pwa/src/worker/photo.js';
import { checkSafety, decodePhoto, detectTags } from '../../pwa/src/worker/photo.js';
import type { ImageParams, MemoryReport } from './protocol.js';

export interface Latency {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

export interface ImageSuiteResult {
  modelId: string;
  task: string;
  variant: string;
  file: string;
  fileBytes: number;
  backend: string; // what ran the app's session
  fallbacks: { backend: string; error: string }[];
  photo: { width: number; height: number; jpegBytes: number; decodeMs: number };
  cairn: Latency; // resize + run + post-process, as the app does per photo
  bare: Latency; // session.run on the prepared tensor + reading the output
  resizeMs: number; // median of the app's resize alone (part of `cairn`)
  result: string; // what the app's last run found (tags, or the safety verdict's top class)
  load: { cairnColdMs: number; cairnWarmMs: number; ortColdMs: number; ortWarmMs: number };
  memory: MemoryReport | null;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};
const latency = (xs: number[]): Latency => ({
  runs: xs.length, p50Ms: quantile(xs, 0.5), p95Ms: quantile(xs, 0.95),
  meanMs: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
});

/** A 1600x1200 JPEG drawn here (gradient sky, ground, a few shapes): a phone-sized photo the
 * app decodes as it would a creator's, the same on every run. */
async function syntheticPhoto(): Promise<Blob> {
  const c = new OffscreenCanvas(1600, 1200);
  const g = c.getContext('2d')!;
  const sky = g.createLinearGradient(0, 0, 0, 700);
  sky.addColorStop(0, '#3b6fb6');
  sky.addColorStop(1, '#f2c58a');
  g.fillStyle = sky;
  g.fillRect(0, 0, 1600, 700);
  g.fillStyle = '#5d7a3a';
  g.fillRect(0, 700, 1600, 500);
  for (let i = 0; i < 24; i++) {
    g.fillStyle = `hsl(${(i * 47) % 360} 60% ${30 + (i % 5) * 10}%)`;
    g.beginPath();
    g.arc(80 + ((i * 263) % 1440), 650 + ((i * 151) % 500), 20 + ((i * 37) % 90), 0, 2 * Math.PI);
    g.fill();
  }
  return c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
}

/** The input tensor the app's code makes for this task (the bare side runs it as is). */
function prepare(task: string, px: Pixels): { name: string; data: Float32Array; dims: number[] } {
  return task === 'image-tags'
    ? { name: 'images', dims: [1, 512, 512, 3],
        data: resizeBilinearRgb(px.rgba, px.width, px.height, { width: 512, height: 512, alignCorners: false, scale: 1 }) }
    : { name: 'input', dims: [1, 224, 224, 3],
        data: resizeBilinearRgb(px.rgba, px.width, px.height, { width: 224, height: 224, alignCorners: true, scale: 1 / 255 }) };
}

export async function imageSuite(
  p: ImageParams, measure: () => Promise<MemoryReport | null>,
): Promise<ImageSuiteResult> {
  ort.env.logLevel = 'error';
  const base = new URL(`models/${p.pack}/`, self.location.href);
  const manifest = (await (await fetch(new URL('manifest.json', base))).json()) as PackSummary & { task: string };
  const task = manifest.task;
  if (task !== 'image-tags' && task !== 'image-safety') throw new Error(`${manifest.id} is not an image pack (${task})`);
  const variant = manifest.variants.find(
    (v) => v.runtime === 'ort-web' && v.precision === p.precision && v.execution_providers.includes(p.backend));
  if (!variant) throw new Error(`${manifest.id} has no ${p.precision} variant for ${p.backend}`);
  const fileUrl = new URL(variant.file, base);

  // ORT Web's one-time start, untimed (as in the caption suite).
  const first = new Uint8Array(await (await fetch(fileUrl, { cache: 'no-store' })).arrayBuffer());
  await (await ort.InferenceSession.create(first, { executionProviders: [p.backend] })).release();

  const blob = await syntheticPhoto();
  const decodes: number[] = [];
  let px: Pixels | null = null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    px = await decodePhoto(blob);
    decodes.push(performance.now() - t);
  }

  const pool = await OpfsPool.open(p.dir);
  pool.wipe();
  const core = await Core.load(pool);
  // Steer the runtime policy to the variant measured: WebGPU "usable" puts the fp32 (WebGPU)
  // file first, otherwise the smallest (int8, wasm). On the wasm page an fp32 run's WebGPU try
  // fails fast and the app falls back to wasm with that file (reported in `fallbacks`).
  const caps: Capabilities = {
    ...(await probeCapabilities()), webnn: false, webgpu: p.precision === 'fp32', webgpuFallbackAdapter: false,
  };
  const vault = core.withStrings(['/vault', 'bench passphrase'], ([d, q]) => core.out('vault_create', d!, q!));
  await pool.topUp();
  const models = new Models(core, p.trustedKeys, () => caps);
  // The cold load starts at the Install click: the offer (with its size) is already listed.
  await models.list(vault);
  let t = performance.now();
  await models.install(vault, manifest.id, () => undefined);
  await pool.topUp();
  let model: LoadedImageModel | null = await models.imageModel(vault, task);
  const cairnColdMs = performance.now() - t;
  models.unloadAll();
  t = performance.now();
  model = await models.imageModel(vault, task);
  const cairnWarmMs = performance.now() - t;
  if (!model) throw new Error(`${manifest.id} did not load`);
  if (model.variant !== variant.name) throw new Error(`the app chose ${model.variant}, not ${variant.name}`);

  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [p.backend], graphOptimizationLevel: 'all',
  };
  const input = prepare(task, px!);
  const bareRun = async (s: ort.InferenceSession) => {
    const out = await s.run({ [input.name]: new ort.Tensor('float32', input.data, input.dims) });
    for (const o of Object.values(out)) {
      await o.getData();
      o.dispose();
    }
  };
  const ortLoad = async (cache: RequestCache) => {
    const t1 = performance.now();
    const bytes = new Uint8Array(await (await fetch(fileUrl, { cache })).arrayBuffer());
    const s = await ort.InferenceSession.create(bytes, options);
    return { s, ms: performance.now() - t1 };
  };
  const cold = await ortLoad('no-store');
  await cold.s.release();
  const { s: bare, ms: ortWarmMs } = await ortLoad('default');

  let found = '';
  const appRun = async () => {
    if (task === 'image-tags') found = (await detectTags(model!, px!)).labels.join(', ') || '(none)';
    else found = (await checkSafety(model!, px!)).top;
  };
  const timed = async (f: () => Promise<void>) => {
    const t1 = performance.now();
    await f();
    return performance.now() - t1;
  };
  for (let i = 0; i < p.warmup; i++) {
    await appRun();
    await bareRun(bare);
  }
  const c: number[] = [];
  const b: number[] = [];
  const started = performance.now();
  for (let i = 0; i < p.runs && (c.length < 2 || performance.now() - started < p.budgetMs); i++) {
    c.push(await timed(appRun));
    b.push(await timed(() => bareRun(bare)));
  }
  const resizes: number[] = [];
  for (let i = 0; i < 5; i++) resizes.push(await timed(async () => void prepare(task, px!)));
  const memory = await measure();
  await bare.release();
  models.unloadAll();
  return {
    modelId: manifest.id, task, variant: variant.name, file: variant.file, fileBytes: first.length,
    backend: model.session.backend, fallbacks: model.session.attempts,
    photo: { width: px!.width, height: px!.height, jpegBytes: blob.size, decodeMs: quantile(decodes, 0.5) },
    cairn: latency(c), bare: latency(b), resizeMs: quantile(resizes, 0.5), result: found,
    load: { cairnColdMs, cairnWarmMs, ortColdMs: cold.ms, ortWarmMs },
    memory,
  };
}
