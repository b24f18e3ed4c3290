// The original side of a TensorFlow.js conversion: unpack a model an npm package bundles, and
// run it with TensorFlow.js itself (the pure-JS CPU backend, no native binaries) on fixed
// inputs, for tfjs_to_onnx.py to compare its ONNX graph against.
//
//   node tfjs_reference.mjs unpack-nsfwjs NSFWJS_MODEL_DIR OUT_DIR
//       nsfwjs ships each model as browserify bundles: model.min.js exports the model.json
//       object, each group1-shardXofN.min.js exports the shard's bytes as base64. Writes the
//       standard tfjs files: OUT_DIR/model.json and OUT_DIR/<path> for each weight shard.
//   node tfjs_reference.mjs run MODEL_DIR OUT_DIR [--size S]
//       Loads MODEL_DIR/model.json (a tfjs layers model) with tf.loadLayersModel and runs it on
//       deterministic S×S RGB images in [0, 1], NHWC (the layout TensorFlow.js feeds). Writes
//       OUT_DIR/inputs.f32 [N,S,S,3], OUT_DIR/outputs.f32 (the model's output, [N, K]),
//       OUT_DIR/logits.f32 when the last layer is a Dense with softmax (its pre-activation,
//       computed with TensorFlow.js ops from the layer's own weights) and OUT_DIR/reference.json
//       naming the shapes. Raw little-endian float32, no header.
//   node tfjs_reference.mjs run-graph MODEL_DIR OUT_DIR [--scale K] [--images N]
//       The same for a tfjs graph model (tf.loadGraphModel): its signature's single input
//       [1, H, W, 3] is fed N of the test images resized to H×W and multiplied by K (255
//       for models fed pixel values); every signature output is saved as out_<name>.f32, with
//       reference.json naming inputs and outputs (name, shape, dtype).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Packages resolve from models/convert (its own package.json and node_modules), and the model
// bundles by absolute path.
const require = createRequire(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'convert', 'package.json'));

function die(msg) {
  process.stderr.write(`tfjs_reference: ${msg}\n`);
  process.exit(1);
}

function unpackNsfwjs(modelDir, outDir) {
  const bundle = join(modelDir, 'model.min.js');
  if (!existsSync(bundle)) die(`${bundle} is missing (not an nsfwjs model directory)`);
  const model = require(resolve(bundle));
  if (!model.modelTopology || !model.weightsManifest) die(`${bundle} does not export a tfjs model.json`);
  mkdirSync(outDir, { recursive: true });
  for (const group of model.weightsManifest) {
    for (const path of group.paths) {
      const shardBundle = join(modelDir, `${path}.min.js`);
      if (!existsSync(shardBundle)) die(`weight shard ${shardBundle} is missing`);
      const base64 = require(resolve(shardBundle));
      if (typeof base64 !== 'string') die(`${shardBundle} does not export base64 text`);
      writeFileSync(join(outDir, path), Buffer.from(base64, 'base64'));
    }
  }
  writeFileSync(join(outDir, 'model.json'), JSON.stringify(model));
}

// Deterministic test images: pseudo-random noise (a 32-bit LCG, 8-bit levels like a decoded
// photo), a smooth colour gradient, flat grey, stripes, and a blurred-noise "photo-like" image.
function testImages(size) {
  const images = [];
  let state = 12345;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const px = size * size * 3;
  for (let k = 0; k < 4; k++) {
    const a = new Float32Array(px);
    for (let i = 0; i < px; i++) a[i] = Math.floor(rand() * 256) / 255;
    images.push(a);
  }
  const grad = new Float32Array(px);
  const grey = new Float32Array(px);
  const stripes = new Float32Array(px);
  const blobs = new Float32Array(px);
  const centres = Array.from({ length: 6 }, () => [rand() * size, rand() * size, rand(), rand(), rand()]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      grad[o] = x / (size - 1); grad[o + 1] = y / (size - 1); grad[o + 2] = 1 - x / (size - 1);
      grey[o] = grey[o + 1] = grey[o + 2] = 0.5;
      const s = (Math.floor(x / 8) + Math.floor(y / 8)) % 2;
      stripes[o] = s; stripes[o + 1] = 1 - s; stripes[o + 2] = 0.25;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [cx, cy, r, g, b] of centres) {
          v += [r, g, b][c] * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (size / 6) ** 2));
        }
        blobs[o + c] = Math.min(1, v);
      }
    }
  }
  images.push(grad, grey, stripes, blobs);
  return images;
}

async function run(modelDir, outDir, size) {
  // The pure-JS CPU backend: importing @tensorflow/tfjs would also register WebGL, which Node
  // lacks; tfjs-core + tfjs-layers + tfjs-backend-cpu is the same code the package runs on CPU.
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  const tfl = require('@tensorflow/tfjs-layers');
  await tf.setBackend('cpu');
  const modelJson = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) buffers.push(readFileSync(join(modelDir, path)));
  }
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  const model = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology, weightSpecs, weightData }));

  const images = testImages(size);
  const n = images.length;
  const input = new Float32Array(n * size * size * 3);
  images.forEach((a, i) => input.set(a, i * a.length));
  const x = tf.tensor4d(input, [n, size, size, 3]);
  const last = model.layers[model.layers.length - 1];
  const cfg = last.getConfig();
  const meta = { n, size, input_shape: [n, size, size, 3], backend: tf.getBackend(),
                 tfjs_version: tf.version_core };
  let outputs;
  if (last.getClassName() === 'Dense' && cfg.activation === 'softmax') {
    // The logits: the last layer's input through its own kernel and bias, with tfjs ops (one
    // pass computes the last layer's input and the model's output together).
    const both = tfl.model({ inputs: model.inputs, outputs: [last.input, model.outputs[0]] });
    const [hidden, out] = both.predict(x);
    const [kernel, bias] = last.getWeights();
    const logits = tf.add(tf.matMul(hidden, kernel), bias);
    writeFileSync(join(outDir, 'logits.f32'), Buffer.from((await logits.data()).buffer));
    meta.logits_shape = logits.shape;
    outputs = out;
  } else {
    outputs = model.predict(x);
  }
  writeFileSync(join(outDir, 'outputs.f32'), Buffer.from((await outputs.data()).buffer));
  writeFileSync(join(outDir, 'inputs.f32'), Buffer.from(input.buffer));
  meta.outputs_shape = outputs.shape;
  writeFileSync(join(outDir, 'reference.json'), JSON.stringify(meta, null, 1));
}

async function runGraph(modelDir, outDir, scale, count) {
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  const tfc = require('@tensorflow/tfjs-converter');
  await tf.setBackend('cpu');
  const modelJson = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) buffers.push(readFileSync(join(modelDir, path)));
  }
  const model = await tfc.loadGraphModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology, weightSpecs,
    weightData: new Uint8Array(Buffer.concat(buffers)).buffer,
    signature: modelJson.signature, format: modelJson.format }));
  const [inName, inSpec] = Object.entries(modelJson.signature.inputs)[0];
  const dims = inSpec.tensorShape.dim.map((d) => Number(d.size));
  if (dims.length !== 4 || dims[0] !== 1 || dims[3] !== 3) die(`input ${inName} is not [1, H, W, 3]`);
  const outNames = Object.keys(modelJson.signature.outputs);
  const meta = { inputs: [], outputs: [], backend: tf.getBackend(), tfjs_version: tf.version_core };
  // Noise, the gradient, the blurred blobs first (the most different), then the rest.
  const all = testImages(224);
  const images = [0, 4, 7, 6, 5, 1, 2, 3].slice(0, count).map((k) => all[k]);
  for (let i = 0; i < images.length; i++) {
    // The 224×224 test images, resized as the app would (bilinear), then scaled.
    const x = tf.tidy(() => tf.mul(tf.image.resizeBilinear(
      tf.tensor4d(images[i], [1, 224, 224, 3]), [dims[1], dims[2]]), scale));
    const xs = await x.data();
    writeFileSync(join(outDir, `in_${i}.f32`), Buffer.from(xs.buffer));
    meta.inputs.push({ file: `in_${i}.f32`, shape: x.shape });
    const ys = model.execute({ [inName]: x }, outNames);
    const outs = Array.isArray(ys) ? ys : [ys];
    for (let k = 0; k < outs.length; k++) {
      const short = outNames[k].split(':')[0].split('/').pop();
      const file = `out_${i}_${short}.f32`;
      const data = await outs[k].data();
      writeFileSync(join(outDir, file), Buffer.from(new Float32Array(data).buffer));
      meta.outputs.push({ image: i, name: short, file, shape: outs[k].shape, dtype: outs[k].dtype });
    }
  }
  writeFileSync(join(outDir, 'reference.json'), JSON.stringify(meta, null, 1));
}

const [cmd, a, b, ...rest] = process.argv.slice(2);
if (cmd === 'unpack-nsfwjs' && a && b) {
  unpackNsfwjs(a, b);
} else if (cmd === 'run' && a && b) {
  const i = rest.indexOf('--size');
  mkdirSync(b, { recursive: true });
  await run(a, b, i >= 0 ? Number(rest[i + 1]) : 224);
} else if (cmd === 'run-graph' && a && b) {
  const opt = (k, d) => (rest.indexOf(k) >= 0 ? Number(rest[rest.indexOf(k) + 1]) : d);
  mkdirSync(b, { recursive: true });
  await runGraph(a, b, opt('--scale', 1), opt('--images', 3));
} else {
  die('usage: node tfjs_reference.mjs unpack-nsfwjs NSFWJS_MODEL_DIR OUT_DIR | run MODEL_DIR OUT_DIR [--size S] | run-graph MODEL_DIR OUT_DIR [--scale K] [--images N]');
}
