// The one-shot packs in the browser, the image packs and the text embedder: the app's own path
// (the pack installed into the vault and loaded through models.ts; for a photo, photo.ts resizes
// it as the manifest says, runs it and post-processes; for text, embedder.ts has the core encode
// the words and runs the graph) vs a bare onnxruntime-web session on the same file and provider
// running the same input tensor, on wasm or WebGPU. Per model and backend: load cold and warm,
// and p50/p95 over `runs` runs after `warmup` (the two sides alternating, so drift on a shared
// machine falls on both alike).
import * as ort from 'onnxruntime-web/all';
import type { Capabilities } from '../../pwa/src/protocol.js';
import { probeCapabilities } from '../../pwa/src/worker/capabilities.js';
import { Core } from '../../pwa/src/worker/core.js';
import type { LoadedImageModel, PackSummary } from '../../pwa/src/worker/models.js';
import { Models } from '../../pwa/src/worker/models.js';
import type { TextEmbedder } from '../../pwa/src/worker/embedder.js';
import { OpfsPool } from '../../pwa/src/worker/opfs_pool.js';
import type { ModelInput, Pixels } from '../../pwa/src/worker/photo.js';
import { checkSafety, decodePhoto, detectTags, safetyInput, tagsInput } from '../../pwa/src/worker/photo.js';
import { quantile } from './caption_suite.js';
import type { MemoryReport, OneShotParams } from './protocol.js';

export interface Latency {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

export interface OneShotSuiteResult {
  modelId: string;
  task: string;
  variant: string;
  file: string;
  fileBytes: number;
  backend: string; // what ran the app's session
  fallbacks: { backend: string; error: string }[];
  photo: { width: number; height: number; jpegBytes: number; decodeMs: number } | null;
  cairn: Latency; // as the app does per photo (resize, run, post-process) or per text (encode, run)
  bare: Latency; // session.run on the prepared tensor + reading the output
  prepMs: number; // median of the app's input preparation alone (part of `cairn`)
  result: string; // what the app's last run found (tags, the safety verdict's top class, dims)
  load: { cairnColdMs: number; cairnWarmMs: number; ortColdMs: number; ortWarmMs: number };
  memory: MemoryReport | null;
}

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

/** The app's input for an image pack (photo.ts), and as ORT feeds. */
const imageInput = (task: string, px: Pixels): ModelInput => (task === 'image-tags' ? tagsInput(px) : safetyInput(px));
const floatFeeds = (i: ModelInput) => ({ [i.name]: new ort.Tensor('float32', i.data, i.dims) });

/** A caption as the app embeds it for search and hashtags. */
const TEXT = 'Golden hour at the beach with my dog, salty air and a sandcastle that almost survived the tide';

export async function oneShotSuite(
  p: OneShotParams, measure: () => Promise<MemoryReport | null>,
): Promise<OneShotSuiteResult> {
  ort.env.logLevel = 'error';
  const base = new URL(`models/${p.pack}/`, self.location.href);
  const manifest = (await (await fetch(new URL('manifest.json', base))).json()) as PackSummary & { task: string };
  const task = manifest.task;
  if (task !== 'image-tags' && task !== 'image-safety' && task !== 'embedding') {
    throw new Error(`${manifest.id} is not a one-shot pack (${task})`);
  }
  const variant = manifest.variants.find(
    (v) => v.runtime === 'ort-web' && v.precision === p.precision && v.execution_providers.includes(p.backend));
  if (!variant) throw new Error(`${manifest.id} has no ${p.precision} variant for ${p.backend}`);
  const fileUrl = new URL(variant.file, base);

  // ORT Web's one-time start and the model's WebGPU pipelines, paid untimed by one session and
  // one run on a blank input (as in the caption suite).
  const first = new Uint8Array(await (await fetch(fileUrl, { cache: 'no-store' })).arrayBuffer());
  const start = await ort.InferenceSession.create(first, { executionProviders: [p.backend], graphOptimizationLevel: 'all' });
  const onePixel: Pixels = { rgba: new Uint8ClampedArray(4), width: 1, height: 1 };
  const blank = task === 'embedding'
    ? { input_ids: new ort.Tensor('int64', new BigInt64Array([1n]), [1, 1]) }
    : floatFeeds(imageInput(task, onePixel));
  for (const o of Object.values(await start.run(blank))) o.dispose();
  await start.release();

  let photo: OneShotSuiteResult['photo'] = null;
  let px: Pixels | null = null;
  if (task !== 'embedding') {
    const blob = await syntheticPhoto();
    const decodes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      px = await decodePhoto(blob);
      decodes.push(performance.now() - t);
    }
    photo = { width: px!.width, height: px!.height, jpegBytes: blob.size, decodeMs: quantile(decodes, 0.5) };
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

  // What the app loads and runs for this task, and the tensor the bare side runs.
  let image: LoadedImageModel | null = null;
  let text: TextEmbedder | null = null;
  const load = async (): Promise<{ variant: string; backend: string; attempts: OneShotSuiteResult['fallbacks'] } | null> => {
    if (task === 'embedding') {
      text = await models.embedder(vault);
      return text && { variant: text.info.variant, backend: text.info.backend, attempts: [] };
    }
    image = await models.imageModel(vault, task);
    return image && { variant: image.variant, backend: image.session.backend, attempts: image.session.attempts };
  };
  const prepare = (): Record<string, ort.Tensor> => {
    if (!text) return floatFeeds(imageInput(task, px!));
    const ids = text.encode(TEXT);
    return { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]) };
  };
  let found = '';
  const appRun = async () => {
    if (text) found = `${(await text.embed([TEXT]))[0]!.length}-d vector`;
    else if (task === 'image-tags') found = (await detectTags(image!, px!)).labels.join(', ') || '(none)';
    else found = (await checkSafety(image!, px!)).top;
  };

  // The cold load starts at the Install click: the offer (with its size) is already listed.
  await models.list(vault);
  let t = performance.now();
  await models.install(vault, manifest.id, () => undefined);
  await pool.topUp();
  await load();
  const cairnColdMs = performance.now() - t;
  models.unloadAll();
  t = performance.now();
  const loaded = await load();
  const cairnWarmMs = performance.now() - t;
  if (!loaded) throw new Error(`${manifest.id} did not load`);
  if (loaded.variant !== variant.name) throw new Error(`the app chose ${loaded.variant}, not ${variant.name}`);

  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [p.backend], graphOptimizationLevel: 'all',
  };
  const feeds = prepare();
  const bareRun = async (s: ort.InferenceSession) => {
    const out = await s.run(feeds);
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
  const preps: number[] = [];
  for (let i = 0; i < 5; i++) preps.push(await timed(async () => void prepare()));
  const memory = await measure();
  await bare.release();
  models.unloadAll();
  return {
    modelId: manifest.id, task, variant: variant.name, file: variant.file, fileBytes: first.length,
    backend: loaded.backend, fallbacks: loaded.attempts, photo,
    cairn: latency(c), bare: latency(b), prepMs: quantile(preps, 0.5), result: found,
    load: { cairnColdMs, cairnWarmMs, ortColdMs: cold.ms, ortWarmMs },
    memory,
  };
}
