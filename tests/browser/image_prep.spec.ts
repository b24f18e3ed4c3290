// The photo pre/post-processing module (pwa/src/worker/image_prep.ts) against values computed
// by hand from TensorFlow.js' resizeBilinear rules (models/README.md), CenterNet's suggested
// post-processing, and the safety verdict's fail-closed rule. Runs in Chromium on a blank page.
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

async function load(page: Page): Promise<void> {
  const out = await esbuild.build({
    entryPoints: [join(__dirname, '../../pwa/src/worker/image_prep.ts')],
    bundle: true, write: false, format: 'iife', globalName: 'prep', target: 'es2022',
  });
  await page.goto('about:blank');
  await page.addScriptTag({ content: out.outputFiles[0]!.text });
}

test('resizeBilinearRgb follows TF.js: align_corners true and false, alpha dropped, scaled', async ({ page }) => {
  await load(page);
  const r = await page.evaluate(() => {
    const p = (window as any).prep;
    // 2x2 RGBA; R = 0, 100 / 200, 250; G = 10 everywhere; B = R / 10; alpha 255 (dropped).
    const R = [0, 100, 200, 250];
    const rgba = new Uint8ClampedArray(R.flatMap((v) => [v, 10, v / 10, 255]));
    const ac = p.resizeBilinearRgb(rgba, 2, 2, { width: 3, height: 3, alignCorners: true, scale: 1 });
    const tf = p.resizeBilinearRgb(rgba, 2, 2, { width: 4, height: 4, alignCorners: false, scale: 1 / 255 });
    const red = (a: Float32Array, w: number) => Array.from({ length: a.length / 3 }, (_, i) => a[i * 3]).filter((_, i) => i < w * w);
    return { ac: red(ac, 3), acG: ac[1], acLen: ac.length, tf: red(tf, 4).map((x: number) => Math.round(x * 255 * 100) / 100) };
  });
  // align_corners: source = out * (in-1)/(out-1) = 0, 0.5, 1.
  expect(r.ac).toEqual([0, 50, 100, 100, 137.5, 175, 200, 225, 250]);
  expect(r.acG).toBe(10);
  expect(r.acLen).toBe(27); // RGB only
  // align_corners false, half_pixel false: source = out * in/out = 0, 0.5, 1, 1.5 (clamped).
  expect(r.tf).toEqual([0, 50, 100, 100, 100, 137.5, 175, 175, 200, 225, 250, 250, 200, 225, 250, 250]);
});

test('decodeDetections: threshold, NMS, top-k, labels, scaling; untrusted rows dropped', async ({ page }) => {
  await load(page);
  const got = await page.evaluate(() => {
    const p = (window as any).prep;
    const rows = new Float32Array([
      100, 120, 300, 400, 0.9, 1,   // b
      110, 130, 310, 410, 0.8, 1,   // overlaps the first (IoU ~0.88): dropped
      320, 40, 500, 500, 0.6, 0,    // a
      10, 10, 60, 60, 0.1, 2,       // under 0.2
      0, 0, 10, 10, 0.95, 7,        // class outside labels: dropped
      0, 0, NaN, 10, 0.99, 0,       // not finite: dropped
      0, 0, 50, 50, 0.3, 2.5,       // not a class index: dropped
      400, 400, 450, 450, 0.25, 2,  // c
    ]);
    const o = { scoreThreshold: 0.2, iouThreshold: 0.4, maxDetections: 10, inputSize: 512, photoWidth: 1024, photoHeight: 256 };
    return {
      all: p.decodeDetections(rows, ['a', 'b', 'c'], o),
      top1: p.decodeDetections(rows, ['a', 'b', 'c'], { ...o, maxDetections: 1 }),
      tags: p.tagsOf(p.decodeDetections(rows, ['a', 'b', 'c'], o)),
    };
  });
  expect(got.all.map((d: { label: string }) => d.label)).toEqual(['b', 'a', 'c']);
  expect(got.all[0].score).toBeCloseTo(0.9, 5);
  expect(got.all[0].box).toEqual([200, 60, 600, 200]); // x * 1024/512, y * 256/512
  expect(got.top1.length).toBe(1);
  expect(got.tags).toEqual(['b', 'a', 'c']);
});

test('safetyVerdict: risky classes together decide; non-finite output fails closed', async ({ page }) => {
  await load(page);
  const v = await page.evaluate(() => {
    const p = (window as any).prep;
    const L = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
    return {
      neutral: p.safetyVerdict(new Float32Array([0.1, 0.05, 0.7, 0.05, 0.1]), L),
      split: p.safetyVerdict(new Float32Array([0.1, 0.2, 0.2, 0.25, 0.25]), L),
      nan: p.safetyVerdict(new Float32Array([0, 0, NaN, 0, 0]), L),
    };
  });
  expect(v.neutral.unsafe).toBe(false);
  expect(v.neutral.top).toBe('Neutral');
  expect(v.split.unsafe).toBe(true); // no single class over half, the risky ones together are
  expect(v.nan.unsafe).toBe(true);
});
