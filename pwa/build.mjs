// The web build: type-checks pwa/ and service_worker/ (tsc), bundles the UI, the core worker and
// the service worker (esbuild), and lays out everything the app serves in build/pwa.
//
//   node pwa/build.mjs [--force] [--no-check]     (./cairn pwa runs it in the build root)
//
// Output (build/pwa, served at / by `cairn-server --app`):
//   index.html, app.webmanifest, icons/*.png           stable names ("no-cache" on the server)
//   main.<hash>.js, styles.<hash>.css                   content-hashed (cached for a year)
//   core_worker.<hash>.js                               when pwa/src/worker/core_worker.ts exists
//   cairn_web.mjs, cairn_web.wasm                       the wasm core ($CAIRN_WASM_DIR, default
//                                                       build/wasm-release/api), when the worker
//                                                       imports it
//   ort-wasm-simd-threaded*.mjs/.wasm                   ONNX Runtime Web's runtime, the variants
//                                                       the worker's bundle names
//   sw.js                                               the service worker, with the precache
//                                                       list (every file above, revisioned)
//   build-info.json                                     what this build holds (for the tests)
// <hash> is the first 16 hex digits of the file's SHA-256 (server/static_files.h relies on it).
//
// The core worker may import the wasm module by any path that ends in "cairn_web.mjs": it stays
// an external import of ./cairn_web.mjs beside the worker, so Emscripten's glue finds
// cairn_web.wasm next to itself. onnxruntime-web is bundled in its "extern wasm" form, so it
// loads its runtime files from beside the worker (or from ort.env.wasm.wasmPaths).
//
// Nothing is rebuilt when the inputs (pwa/, service_worker/, the lockfile, the wasm module and
// api/'s generated cairn_abi.ts) have not changed since the last build: their hash is kept in
// build/pwa/.inputs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { makeIcons } from './tools/icons.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build/pwa');
const WASM_DIR = process.env.CAIRN_WASM_DIR ?? join(ROOT, 'build/wasm-release/api');
const WORKER_ENTRY = join(ROOT, 'pwa/src/worker/core_worker.ts');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const args = new Set(process.argv.slice(2));

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hashedName = (stem, ext, data) => `${stem}.${sha256(data).slice(0, 16)}.${ext}`;

function fail(message) {
  console.error(`pwa/build.mjs: ${message}`);
  process.exit(1);
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function inputsHash() {
  const h = createHash('sha256');
  const files = [
    ...listFiles(join(ROOT, 'pwa')),
    ...listFiles(join(ROOT, 'service_worker')),
    join(ROOT, 'package-lock.json'),
    join(ROOT, 'tsconfig.base.json'),
    // The wasm module and what api/ generates beside it (cairn_abi.ts, which the worker imports).
    ...(fs.existsSync(WASM_DIR) ? fs.readdirSync(WASM_DIR) : [])
      .filter((f) => /\.(mjs|wasm|ts)$/.test(f))
      .map((f) => join(WASM_DIR, f)),
  ];
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(fs.readFileSync(f));
  h.update(`keys:${process.env.CAIRN_TRUSTED_KEYS ?? ''}`);
  return h.digest('hex').slice(0, 16);
}

// Model output and user input reach the DOM as text only (DESIGN.md, principle 6): no source of
// the UI or the service worker may use an HTML-parsing sink.
function checkNoHtmlSinks() {
  const sinks =
    /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser)\b/;
  const files = [
    ...listFiles(join(ROOT, 'pwa/src')),
    ...listFiles(join(ROOT, 'service_worker')),
  ].filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    fs.readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (sinks.test(line))
          fail(`${relative(ROOT, f)}:${i + 1} uses an HTML sink; set textContent instead`);
      });
  }
}

function typeCheck() {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const projects = ['pwa/tsconfig.json', 'service_worker/tsconfig.json'];
  if (fs.existsSync(WORKER_ENTRY)) projects.push('pwa/tsconfig.worker.json');
  for (const p of projects) {
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(ROOT, p)], {
      stdio: 'inherit',
    });
    if (r.status !== 0) fail(`type errors in ${p}`);
  }
}

// Any import of ".../cairn_web.mjs" becomes the external "./cairn_web.mjs".
const wasmModuleExternal = {
  name: 'cairn-wasm-module',
  setup(build) {
    build.onResolve({ filter: /(^|\/)cairn_web\.mjs$/ }, () => ({
      path: './cairn_web.mjs',
      external: true,
    }));
  },
};

async function bundle(entry, options = {}) {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"', ...(options.define ?? {}) },
    conditions: ['onnxruntime-web-use-extern-wasm'],
    plugins: [wasmModuleExternal],
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function copy(from, to) {
  fs.mkdirSync(dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

async function build(out, inputs) {
  const info = { inputs, coreWorker: null, wasmModule: false, ort: [] };
  const write = (name, data) => {
    fs.mkdirSync(dirname(join(out, name)), { recursive: true });
    fs.writeFileSync(join(out, name), data);
  };

  // The core worker first: the UI needs its name, the copy steps need what it imports.
  let workerCode = '';
  if (fs.existsSync(WORKER_ENTRY)) {
    const code = await bundle(WORKER_ENTRY);
    workerCode = code.toString('utf8');
    info.coreWorker = hashedName('core_worker', 'js', code);
    write(info.coreWorker, code);
  }
  const main = await bundle(join(ROOT, 'pwa/src/main.ts'), {
    define: {
      __CAIRN_CORE_WORKER__: JSON.stringify(info.coreWorker ? `./${info.coreWorker}` : null),
    },
  });
  const mainName = hashedName('main', 'js', main);
  write(mainName, main);
  const css = (
    await esbuild.transform(fs.readFileSync(join(ROOT, 'pwa/src/styles.css')), {
      loader: 'css',
      minify: true,
    })
  ).code;
  const cssName = hashedName('styles', 'css', css);
  write(cssName, css);

  let html = fs.readFileSync(join(ROOT, 'pwa/index.html'), 'utf8');
  for (const [from, to] of [
    ['./main.js', mainName],
    ['./styles.css', cssName],
  ]) {
    if (!html.includes(`"${from}"`)) fail(`pwa/index.html does not reference "${from}"`);
    html = html.replace(`"${from}"`, `"./${to}"`);
  }
  write('index.html', html);
  copy(join(ROOT, 'pwa/app.webmanifest'), join(out, 'app.webmanifest'));
  for (const [name, png] of Object.entries(makeIcons())) write(`icons/${name}`, png);

  if (workerCode.includes('cairn_web.mjs')) {
    const files = fs.existsSync(WASM_DIR)
      ? fs.readdirSync(WASM_DIR).filter((f) => /^cairn_web\.(mjs|wasm)$/.test(f))
      : [];
    if (!files.includes('cairn_web.mjs') || !files.includes('cairn_web.wasm')) {
      fail(
        `the core worker imports cairn_web.mjs but ${WASM_DIR} lacks it or its .wasm: ./cairn build wasm-release`,
      );
    }
    for (const f of files) copy(join(WASM_DIR, f), join(out, f));
    info.wasmModule = true;
  }

  // ONNX Runtime Web's runtime: the variants the worker names (else those of the default import).
  const ortText = workerCode || fs.readFileSync(join(ORT_DIST, 'ort.min.mjs'), 'utf8');
  info.ort = [...new Set(ortText.match(/ort-wasm-simd-threaded[.a-z]*?\.mjs/g) ?? [])].sort();
  for (const glue of info.ort) {
    copy(join(ORT_DIST, glue), join(out, glue));
    copy(
      join(ORT_DIST, glue.replace(/\.mjs$/, '.wasm')),
      join(out, glue.replace(/\.mjs$/, '.wasm')),
    );
  }

  // The model-signing keys this build trusts ($CAIRN_TRUSTED_KEYS: hex Ed25519 public keys,
  // comma- or space-separated; ./cairn passes the key that signs the packs it serves). They come
  // from the app's own origin, as its code does; a pack signed by any other key is refused.
  const keys = (process.env.CAIRN_TRUSTED_KEYS ?? '').split(/[\s,]+/).filter(Boolean);
  for (const k of keys) if (!/^[0-9a-f]{64}$/.test(k)) fail(`CAIRN_TRUSTED_KEYS: '${k}' is not a hex Ed25519 public key`);
  write('trusted-keys.json', JSON.stringify({ keys }) + '\n');

  // The service worker last, with a revision for every file it precaches.
  write('build-info.json', JSON.stringify(info, null, 1) + '\n');
  const precache = listFiles(out)
    .map((f) => relative(out, f))
    .filter((f) => !f.startsWith('.'))
    .map((url) => ({
      url,
      revision: /\.[0-9a-f]{16}\.[a-z]+$/.test(url)
        ? null
        : sha256(fs.readFileSync(join(out, url))).slice(0, 16),
    }));
  const sw = await bundle(join(ROOT, 'service_worker/sw.ts'), {
    define: { 'self.__WB_MANIFEST': JSON.stringify(precache) },
  });
  write('sw.js', sw);
  return { ...info, precache: precache.length };
}

const inputs = inputsHash();
const stamp = join(OUT, '.inputs');
if (
  !args.has('--force') &&
  fs.existsSync(join(OUT, 'sw.js')) &&
  fs.existsSync(stamp) &&
  fs.readFileSync(stamp, 'utf8') === inputs
) {
  console.error(`build/pwa is up to date (inputs ${inputs})`);
  process.exit(0);
}
checkNoHtmlSinks();
if (!args.has('--no-check')) typeCheck();
const tmp = `${OUT}.tmp`;
fs.rmSync(tmp, { recursive: true, force: true });
const info = await build(tmp, inputs);
fs.writeFileSync(join(tmp, '.inputs'), inputs);
fs.rmSync(OUT, { recursive: true, force: true });
fs.renameSync(tmp, OUT);
console.error(
  `build/pwa: ${info.precache} precached files; core worker: ${info.coreWorker ?? 'none yet'}; ` +
    `wasm module: ${info.wasmModule ? 'yes' : 'no'}; ONNX Runtime Web: ${info.ort.join(', ')}`,
);
