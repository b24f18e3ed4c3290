// Builds the browser benchmark into build/bench-web (never into build/pwa: the shipped app does
// not carry it). Same bundling as pwa/build.mjs — esbuild, the wasm core kept as an external
// ./cairn_web.mjs beside the worker, onnxruntime-web in its "extern wasm" form — so the bench runs
// the app's modules as the app does.
//
//   node bench/browser/build.mjs        (./cairn bench browser runs it in the build root)
//
// Output: index.html, page.js, worker.js (onnxruntime-web/all, as the app imports it),
// worker-wasm.js (the same code on onnxruntime-web/wasm, the build without WebGPU/WebNN), the wasm
// core, ONNX Runtime Web's runtime files the workers name, sqlite-wasm's sqlite3.wasm.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const OUT = join(ROOT, 'build/bench-web');
const WASM_DIR = process.env.CAIRN_WASM_DIR ?? join(ROOT, 'build/wasm-release/api');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const SQLITE_DIST = join(ROOT, 'node_modules/@sqlite.org/sqlite-wasm/sqlite-wasm/jswasm');

function fail(message) {
  console.error(`bench/browser/build.mjs: ${message}`);
  process.exit(1);
}

for (const f of ['cairn_web.mjs', 'cairn_web.wasm']) {
  if (!fs.existsSync(join(WASM_DIR, f))) fail(`${WASM_DIR}/${f} is missing: ./cairn build wasm-release`);
}
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
for (const p of ['tsconfig.json', 'tsconfig.page.json']) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(HERE, p)], { stdio: 'inherit' });
  if (r.status !== 0) fail(`type errors in bench/browser/${p}`);
}

const wasmModuleExternal = {
  name: 'cairn-wasm-module',
  setup(build) {
    build.onResolve({ filter: /(^|\/)cairn_web\.mjs$/ }, () => ({ path: './cairn_web.mjs', external: true }));
  },
};

async function bundle(entry, alias = {}) {
  const r = await esbuild.build({
    entryPoints: [join(HERE, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    conditions: ['onnxruntime-web-use-extern-wasm'],
    plugins: [wasmModuleExternal],
    alias,
  });
  return Buffer.from(r.outputFiles[0].contents);
}

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });
const outputs = {
  'page.js': await bundle('page.ts'),
  'worker.js': await bundle('worker.ts'),
  'worker-wasm.js': await bundle('worker.ts', { 'onnxruntime-web/all': 'onnxruntime-web/wasm' }),
};
for (const [name, code] of Object.entries(outputs)) fs.writeFileSync(join(OUT, name), code);
fs.copyFileSync(join(HERE, 'index.html'), join(OUT, 'index.html'));
for (const f of ['cairn_web.mjs', 'cairn_web.wasm']) fs.copyFileSync(join(WASM_DIR, f), join(OUT, f));
const text = Object.values(outputs).map((b) => b.toString('utf8')).join('\n');
const ort = [...new Set(text.match(/ort-wasm-simd-threaded[.a-z]*?\.mjs/g) ?? [])];
for (const glue of ort) {
  for (const f of [glue, glue.replace(/\.mjs$/, '.wasm')]) fs.copyFileSync(join(ORT_DIST, f), join(OUT, f));
}
// sqlite-wasm finds its wasm (and, for its other OPFS VFS, a helper worker) beside the bundle.
for (const f of ['sqlite3.wasm', 'sqlite3-opfs-async-proxy.js']) fs.copyFileSync(join(SQLITE_DIST, f), join(OUT, f));
console.error(`build/bench-web: page, workers (ONNX Runtime Web: ${ort.sort().join(', ')})`);
