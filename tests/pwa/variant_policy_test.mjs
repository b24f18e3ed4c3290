// The PWA's variant policy (pwa/src/worker/variant_policy.ts) under Node: which variant of a pack
// each backend order gets. The module is bundled with esbuild (the app's bundler) in memory.
//
//   node tests/pwa/variant_policy_test.mjs
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = await esbuild.build({
  entryPoints: [join(root, 'pwa/src/worker/variant_policy.ts')],
  bundle: true, write: false, format: 'esm', target: 'es2022', platform: 'neutral',
});
const { variantPreference } = await import(
  `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);

const variant = (name, eps, file, runtime = 'ort-web') =>
  ({ name, runtime, precision: name.split('-')[1], execution_providers: eps, file });
// An image pack as image_int8.py writes it (sizes of cairn-image-safety).
const imagePack = {
  files: [{ name: 'model.onnx', size: 10_500_000 }, { name: 'model-int8.onnx', size: 2_800_000 }],
  variants: [variant('native-fp32', ['cpu'], 'model.onnx', 'ort-native'),
             variant('wasm-int8', ['wasm'], 'model-int8.onnx'),
             variant('webgpu-fp32', ['webgpu', 'wasm'], 'model.onnx')],
};
const names = (vs) => vs.map((v) => v.name);

test('the wasm backend gets wasm-int8, with webgpu-fp32 as its fallback', () => {
  assert.deepEqual(names(variantPreference(imagePack, ['wasm'])), ['wasm-int8', 'webgpu-fp32']);
});

test('WebGPU gets webgpu-fp32, then wasm-int8 for the wasm fallback', () => {
  assert.deepEqual(names(variantPreference(imagePack, ['webgpu', 'wasm'])), ['webgpu-fp32', 'wasm-int8']);
});

test('the native variant is never offered to the browser', () => {
  assert.ok(!names(variantPreference(imagePack, ['webnn', 'webgpu', 'wasm'])).includes('native-fp32'));
});

test('a variant made for the backend wins even where a fallback file is smaller', () => {
  // The tiny test packs: the int8 graph of a 15-weight MatMul is larger than its fp32 one.
  const tiny = { ...imagePack, files: [{ name: 'model.onnx', size: 900 }, { name: 'model-int8.onnx', size: 1100 }] };
  assert.equal(variantPreference(tiny, ['wasm'])[0].name, 'wasm-int8');
});

test('among variants made for one backend the smaller file comes first', () => {
  const two = {
    files: [{ name: 'a.onnx', size: 5 }, { name: 'b.onnx', size: 3 }],
    variants: [variant('wasm-fp16', ['wasm'], 'a.onnx'), variant('wasm-int8', ['wasm'], 'b.onnx')],
  };
  assert.deepEqual(names(variantPreference(two, ['wasm'])), ['wasm-int8', 'wasm-fp16']);
});

test('a pack with nothing for the backend gives nothing', () => {
  const native = { files: imagePack.files, variants: [imagePack.variants[0]] };
  assert.deepEqual(variantPreference(native, ['wasm']), []);
});
