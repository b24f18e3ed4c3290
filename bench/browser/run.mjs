// Runs the browser benchmark: serves build/bench-web with cairn-server (the app's server and
// COOP/COEP headers, so the page is cross-origin isolated like the app) beside signed copies of
// the model packs, drives the page in Debian's Chromium through Playwright, and prints one JSON
// line per result for bench/run.py, which prints the tables and writes build/bench/browser.json.
//
//   node bench/browser/run.mjs [--quick | --vault [--rounds=N] | --only=RE]   (after bench/browser/build.mjs)
//
// Needs: build/bench-web, build/native-release (cairn-server, cairn-cli, test-models),
// build/models (./cairn models), $CAIRN_MODEL_KEY (the key the packs are signed with).
// --quick: one tiny iteration of each suite (the smoke check), nothing printed as a figure.
// --vault: only the vault suite, N times (default 3), each in a fresh worker, with a summary
// per round on stderr (no model packs or key needed): for iterating on the vault's write path.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const QUICK = process.argv.includes('--quick');
const VAULT_ONLY = process.argv.includes('--vault');
// --only=RE: just the caption and image configurations whose names match (no vault, probe or
// size), for iterating on one of them.
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const ONLY = onlyArg ? new RegExp(onlyArg.slice('--only='.length)) : null;
const picked = (cfgs) => cfgs.filter((c) => !ONLY || ONLY.test(c.name));
const roundsArg = process.argv.find((a) => a.startsWith('--rounds=')) ?? '';
const ROUNDS = Number(/^--rounds=(\d+)$/.exec(roundsArg)?.[1] ?? 3);
const PROBE_RUNS = 6;
const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
// DESIGN.md's flags for headless Chromium here, plus eager memory measurement (otherwise
// measureUserAgentSpecificMemory waits for a garbage collection, up to 20 s).
const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-blink-features=ForceEagerMeasureMemory',
];
// WebGPU on SwiftShader: the GPU process must run, WebGPU must be allowed on a software adapter.
const WEBGPU_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-features=Vulkan',
  '--enable-blink-features=ForceEagerMeasureMemory',
];

const emit = (row) => console.log(JSON.stringify({ bench: 'browser', ...row }));
const log = (m) => console.error(`[bench browser] ${m}`);

function need(path, hint) {
  if (!fs.existsSync(path)) {
    console.error(`bench/browser/run.mjs: ${path} is missing: ${hint}`);
    process.exit(1);
  }
  return path;
}

const bin = (p) => need(join(ROOT, 'build/native-release', p), './cairn build native-release');
const server = bin('server/cairn-server');
need(join(ROOT, 'build/bench-web/index.html'), 'node bench/browser/build.mjs');
const key = process.env.CAIRN_MODEL_KEY;
if (!key && !VAULT_ONLY) {
  console.error('bench/browser/run.mjs: $CAIRN_MODEL_KEY is not set (./cairn bench browser sets it)');
  process.exit(1);
}
const trustedKeys = VAULT_ONLY ? '' : JSON.parse(fs.readFileSync(key, 'utf8')).public_key;

// The packs: the built-in starter (int8 + fp32) and the tiny test decoder, signed with the key
// the page trusts.
const models = fs.mkdtempSync(join(os.tmpdir(), 'cairn-bench-models-'));
const data = fs.mkdtempSync(join(os.tmpdir(), 'cairn-bench-data-'));
const packs = VAULT_ONLY ? {} : {
  starter: need(join(ROOT, 'build/models/cairn-caption-starter'), './cairn models'),
  'tiny-llama': need(join(ROOT, 'build/native-release/test-models/tiny-llama'), './cairn build native-release'),
  safety: need(join(ROOT, 'build/models/cairn-image-safety'), './cairn models'),
  tags: need(join(ROOT, 'build/models/cairn-image-tags'), './cairn models'),
  embed: need(join(ROOT, 'build/models/cairn-embed-glove'), './cairn models'),
};
for (const [name, from] of Object.entries(packs)) {
  const cli = bin('cli/cairn-cli');
  fs.cpSync(from, join(models, name), { recursive: true });
  const r = spawnSync(cli, ['pack', 'sign', key, join(models, name)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not sign ${name}: ${r.stderr}`);
}

async function startServer() {
  const child = spawn(server, ['--port', '0', '--data', data, '--app', join(ROOT, 'build/bench-web'),
    '--models', models, '--workers', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const port = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`cairn-server exited (${code}): ${err}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

async function openPage(url, args) {
  const profile = fs.mkdtempSync(join(os.tmpdir(), 'cairn-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args, headless: true, serviceWorkers: 'block',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    // ORT's note that shape ops stay on the CPU beside WebGPU comes with every session: not news.
    if (/VerifyEachNodeIsAssignedToAnEp/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning') log(`page ${m.type()}: ${m.text().slice(0, 300)}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { page, close };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Decode tokens/s per run (median, min, max), prefill and per-step p50/p95 over all runs. */
function probeStats(runs) {
  const tps = runs.map((r) => (r.stamps.length - 1) / ((r.stamps.at(-1) - r.stamps[0]) / 1000));
  const steps = runs.flatMap((r) => r.stamps.slice(1).map((t, i) => t - r.stamps[i]));
  return {
    runs: runs.length, tokens: runs[0].stamps.length, tokensPerSecond: quantile(tps, 0.5),
    min: Math.min(...tps), max: Math.max(...tps),
    ttftMs: quantile(runs.map((r) => r.stamps[0] - r.t0), 0.5),
    p50Ms: quantile(steps, 0.5), p95Ms: quantile(steps, 0.95),
  };
}

const runSuite = (page, worker, request) =>
  page.evaluate(([w, r]) => window.cairnBench.run(w, r).finally(() => window.cairnBench.clearOpfs()),
    [worker, request]);

function coreSize() {
  const dir = join(ROOT, 'build/wasm-release/api');
  for (const f of ['cairn_web.wasm', 'cairn_web.mjs']) {
    const b = fs.readFileSync(join(dir, f));
    emit({ group: 'size', name: f, raw_bytes: b.length, gzip_bytes: gzipSync(b, { level: 9 }).length });
  }
}

// The caption configurations: the app's choice (int8 on wasm, ORT Web's default threads) with
// the full run count, then one knob changed at a time.
function captionConfigs() {
  const runs = QUICK ? 1 : 20;
  const few = QUICK ? 1 : 8;
  const c = (name, pack, precision, numThreads, worker, n, backend = 'wasm') =>
    ({ name, worker, params: { pack, precision, backend, numThreads, runs: n, warmup: 1, loads: QUICK ? 1 : 3, maxSteps: 0 } });
  if (QUICK) return [c('tiny-llama fp32 wasm', 'tiny-llama', 'fp32', 0, 'worker.js', 1)];
  return [
    c('starter int8 wasm', 'starter', 'int8', 0, 'worker.js', runs),
    c('starter int8 wasm 2 threads', 'starter', 'int8', 2, 'worker.js', few),
    c('starter fp32 wasm', 'starter', 'fp32', 0, 'worker.js', runs),
    c('starter int8 wasm (ort.wasm build)', 'starter', 'int8', 0, 'worker-wasm.js', few),
    c('starter fp32 wasm (ort.wasm build)', 'starter', 'fp32', 0, 'worker-wasm.js', few),
    c('tiny-llama fp32 wasm', 'tiny-llama', 'fp32', 0, 'worker.js', runs),
  ];
}

// The one-shot packs: for the image packs the app's variant without WebGPU (int8 on wasm), the
// fp32 file on wasm (the same file WebGPU runs, so wasm vs WebGPU compares one model), then
// WebGPU on its own page; the text embedder has an int8 wasm variant only.
function oneShotConfigs(backend) {
  const c = (name, pack, precision) => ({ name, params: {
    pack, precision, backend, runs: QUICK ? 1 : 20, warmup: QUICK ? 0 : 2,
    budgetMs: backend === 'webgpu' ? 90_000 : 600_000 } });
  if (QUICK) return backend === 'wasm' ? [c('safety int8 wasm', 'safety', 'int8')] : [];
  if (backend === 'webgpu') return [c('safety fp32 webgpu', 'safety', 'fp32'), c('tags fp32 webgpu', 'tags', 'fp32')];
  return [c('safety int8 wasm', 'safety', 'int8'), c('safety fp32 wasm', 'safety', 'fp32'),
    c('tags int8 wasm', 'tags', 'int8'), c('tags fp32 wasm', 'tags', 'fp32'),
    c('embed int8 wasm', 'embed', 'int8')];
}

async function runOneShot(page, backend) {
  for (const cfg of picked(oneShotConfigs(backend))) {
    log(`one-shot: ${cfg.name} (${cfg.params.runs} runs)`);
    try {
      const r = await runSuite(page, 'worker.js', {
        suite: 'oneshot', params: { ...cfg.params, dir: `bench-${n++}`, trustedKeys } });
      emit({ group: 'oneshot', name: cfg.name, ...r });
    } catch (e) {
      emit({ group: 'oneshot', name: cfg.name, error: String(e.message ?? e).split('\n')[0] });
    }
  }
}

const PER_PHASE = { insert_draft_txn: 'drafts', get_draft_by_id: 'reads', list_recent_20: 'lists',
  fts_search_top20: 'queries', update_draft_txn: 'updates' };

/** OPFS handle calls per operation of a phase, and the µs they took. */
function ioPerOp(io, per) {
  return io && {
    writes: io.writes / per, kib_written: io.bytesWritten / per / 1024, reads: io.reads / per,
    flushes: io.flushes / per, sizes: io.sizes / per, truncates: io.truncates / per,
    us: (io.ms * 1000) / per, write_us: (io.writeMs * 1000) / per,
    flush_us: (io.flushMs * 1000) / per,
  };
}

function vaultRows(v, round) {
  const summary = [];
  for (const [i, [name, ops]] of Object.entries(v.cairn).entries()) {
    const per = v.counts[PER_PHASE[name]];
    const cairnIo = ioPerOp(v.cairnIo[i], per);
    const peerIo = ioPerOp(v.peerIo[i], per);
    emit({ group: 'vault', name, unit: 'ops/s', cairn: ops, sqlite_wasm: v.peer[name],
      cairn_vs_sqlite_wasm: ops / v.peer[name], sqlite_wasm_prepare_per_call: v.peerUncached[name],
      count: v.counts, cairn_io_per_op: cairnIo, sqlite_wasm_io_per_op: peerIo,
      peer_journal_mode: v.peerJournalMode, peer_page_size: v.peerPageSize,
      peer_cache_size: v.peerCacheSize, peer_sqlite: v.peerSqliteVersion,
      ...(round && { round }) });
    const us = (x) => (1e6 / x).toFixed(0);
    const pair = (key, digits = 0) =>
      `${cairnIo[key].toFixed(digits)}/${peerIo[key].toFixed(digits)}`;
    const ratio = (ops / v.peer[name]).toFixed(2);
    summary.push(`${name} ${ratio}x (${us(ops)}/${us(v.peer[name])} µs; ` +
      `opfs ${pair('us')} µs (flush ${pair('flush_us')}, write ${pair('write_us')}), ` +
      `${pair('writes', 1)} writes, ${pair('reads', 1)} reads)`);
  }
  if (round) {
    log(`round ${round} (peer page_size ${v.peerPageSize}, cache_size ${v.peerCacheSize}): ` +
      'cairn/peer:\n  ' +
      summary.join('\n  '));
  }
}

const srv = await startServer();
let n = 0;
try {
  const FULL = !QUICK && !VAULT_ONLY && !ONLY;
  if (FULL) coreSize();
  const { page, close } = await openPage(srv.url, BASE_ARGS);
  try {
    const env = await page.evaluate(() => window.cairnBench.env());
    emit({ group: 'env', name: 'chromium', ...env, chromium: spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim() });
    for (let round = 1; round <= (VAULT_ONLY ? ROUNDS : ONLY ? 0 : 1); round++) {
      log('vault: Cairn (wasm core, OPFS slot pool, encrypted) vs sqlite-wasm opfs-sahpool');
      const v = await runSuite(page, 'worker.js',
        { suite: 'vault', scale: QUICK ? 0.001 : 1, dir: `bench-${n++}` });
      vaultRows(v, VAULT_ONLY ? round : undefined);
    }
    for (const cfg of VAULT_ONLY ? [] : picked(captionConfigs())) {
      log(`captions: ${cfg.name} (${cfg.params.runs} runs)`);
      try {
        const r = await runSuite(page, cfg.worker, {
          suite: 'captions', params: { ...cfg.params, dir: `bench-${n++}`, trustedKeys } });
        emit({ group: 'captions', name: cfg.name, ...r });
      } catch (e) {
        emit({ group: 'captions', name: cfg.name, error: String(e.message ?? e).split('\n')[0] });
      }
    }
    if (!VAULT_ONLY) await runOneShot(page, 'wasm');
    if (FULL) {
      // The wasm gap: bare ORT only, every knob in a worker of its own, run round-robin one run
      // at a time (probe_suite.ts), so load from neighbours falls on all of them alike.
      log(`probe: ORT build x precision x threads, ${PROBE_RUNS} runs each, round-robin`);
      const configs = [];
      for (const [build, worker] of [['ort.all (jsep)', 'worker.js'], ['ort.wasm', 'worker-wasm.js']]) {
        for (const precision of ['int8', 'fp32']) {
          for (const numThreads of [1, 2]) {
            configs.push({ worker, build, params: { pack: 'starter', precision, numThreads, promptTokens: 97, tokens: 64 } });
          }
        }
      }
      const results = await page.evaluate(([c, r]) => window.cairnBench.probe(c, r),
        [configs.map(({ worker, params }) => ({ worker, params })), PROBE_RUNS]);
      for (const [i, r] of results.entries()) {
        const { build } = configs[i];
        const { precision, numThreads } = r.params;
        emit({ group: 'probe', name: `${build} ${precision} ${numThreads}t`, build, precision,
          ...r.opened, ...probeStats(r.runs) });
      }
    }
  } finally {
    await close();
  }
  const webgpuNames = ['starter fp32 webgpu (8 steps)', ...oneShotConfigs('webgpu').map((c) => c.name)];
  if (FULL || (ONLY && webgpuNames.some((name) => ONLY.test(name)))) {
    log('captions on WebGPU (SwiftShader)');
    const { page: gp, close: gclose } = await openPage(srv.url, WEBGPU_ARGS);
    try {
      const adapter = await gp.evaluate(async () => {
        if (!navigator.gpu) return { ok: false, why: 'navigator.gpu is undefined (WebGPU not exposed)' };
        const a = await navigator.gpu.requestAdapter().catch((e) => null);
        if (!a) return { ok: false, why: 'requestAdapter() returned no adapter' };
        return { ok: true, fallback: Boolean(a.info?.isFallbackAdapter), vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '' };
      });
      if (!adapter.ok) {
        emit({ group: 'webgpu', name: 'starter fp32 webgpu', unavailable: adapter.why });
      } else if (!ONLY || ONLY.test('starter fp32 webgpu (8 steps)')) {
        const r = await runSuite(gp, 'worker.js', { suite: 'captions', params: {
          pack: 'starter', precision: 'fp32', backend: 'webgpu', numThreads: 0, runs: 20, warmup: 1, loads: 1,
          maxSteps: 8, budgetMs: 90_000,
          dir: `bench-${n++}`, trustedKeys } }).catch((e) => ({ error: String(e.message ?? e).split('\n')[0] }));
        emit({ group: 'webgpu', name: 'starter fp32 webgpu (8 steps)', adapter, ...r });
      }
      if (adapter.ok) await runOneShot(gp, 'webgpu');
    } finally {
      await gclose();
    }
  }
} finally {
  srv.stop();
  fs.rmSync(models, { recursive: true, force: true });
  fs.rmSync(data, { recursive: true, force: true });
}
