// Photo pre- and post-processing for the image packs, exactly as models/README.md (and each
// manifest's `preprocessing` / `postprocessing`) says: TensorFlow.js' resizeBilinear in its two
// modes, RGB NHWC float32 with or without /255, and CenterNet's detections → score threshold,
// non-max suppression, top-k, labels. Pure functions on pixel arrays (no DOM): the worker feeds
// them an OffscreenCanvas' RGBA pixels; ui_logic.spec.ts tests them against hand-computed values.

export interface ResizeOptions {
  width: number; // output
  height: number;
  /** TF.js align_corners: true maps the corner pixels onto each other (scale (in-1)/(out-1)). */
  alignCorners: boolean;
  /** Multiply each value by this (1/255 for nsfwjs, 1 for CenterNet). */
  scale: number;
}

/** RGBA pixels (row-major, 4 bytes a pixel) → float32 RGB NHWC [1, height, width, 3], resized
 * bilinearly as TF.js resizeBilinear (half_pixel_centers false): source coordinate = out * s,
 * s = align_corners ? (in - 1) / (out - 1) : in / out; the four neighbours are clamped to the
 * image. Alpha is dropped. Scaling before or after resizing is the same linear map. */
export function resizeBilinearRgb(
  rgba: Uint8ClampedArray | Uint8Array,
  inW: number,
  inH: number,
  o: ResizeOptions,
): Float32Array {
  if (inW < 1 || inH < 1 || rgba.length < inW * inH * 4) throw new Error('resize: the image has no pixels');
  const out = new Float32Array(o.width * o.height * 3);
  const sy = o.alignCorners && o.height > 1 ? (inH - 1) / (o.height - 1) : inH / o.height;
  const sx = o.alignCorners && o.width > 1 ? (inW - 1) / (o.width - 1) : inW / o.width;
  for (let y = 0; y < o.height; y++) {
    const fy = y * sy;
    const y0 = Math.min(Math.floor(fy), inH - 1);
    const y1 = Math.min(y0 + 1, inH - 1);
    const dy = fy - y0;
    for (let x = 0; x < o.width; x++) {
      const fx = x * sx;
      const x0 = Math.min(Math.floor(fx), inW - 1);
      const x1 = Math.min(x0 + 1, inW - 1);
      const dx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const tl = rgba[(y0 * inW + x0) * 4 + c]!;
        const tr = rgba[(y0 * inW + x1) * 4 + c]!;
        const bl = rgba[(y1 * inW + x0) * 4 + c]!;
        const br = rgba[(y1 * inW + x1) * 4 + c]!;
        const top = tl + (tr - tl) * dx;
        const bottom = bl + (br - bl) * dx;
        out[(y * o.width + x) * 3 + c] = (top + (bottom - top) * dy) * o.scale;
      }
    }
  }
  return out;
}

export interface Detection {
  label: string;
  score: number;
  /** x1, y1, x2, y2 in the photo's pixels. */
  box: [number, number, number, number];
}

export interface DetectionOptions {
  scoreThreshold: number; // 0.2
  iouThreshold: number;   // 0.4
  maxDetections: number;  // 10
  inputSize: number;      // 512: the boxes' coordinate space
  photoWidth: number;
  photoHeight: number;
}

export const CENTERNET_DEFAULTS = { scoreThreshold: 0.2, iouThreshold: 0.4, maxDetections: 10, inputSize: 512 };

function iou(a: number[], b: number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (r: number[]) => Math.max(0, r[2]! - r[0]!) * Math.max(0, r[3]! - r[1]!);
  return inter / (area(a) + area(b) - inter);
}

/** CenterNet's `detections` [1, N, 6] rows (x1, y1, x2, y2, score, class) → the kept
 * detections, best first: score ≥ threshold, greedy non-max suppression over all classes (a box
 * overlapping a better kept one by IoU > threshold is dropped), at most maxDetections, boxes
 * scaled from the input's square to the photo. Rows that are not finite or name a class
 * outside `labels` are dropped: model output is untrusted. */
export function decodeDetections(rows: Float32Array, labels: string[], o: DetectionOptions): Detection[] {
  const cands: { box: number[]; score: number; cls: number }[] = [];
  for (let i = 0; i + 6 <= rows.length; i += 6) {
    const r = Array.from(rows.subarray(i, i + 6));
    if (!r.every(Number.isFinite)) continue;
    const [x1, y1, x2, y2, score, cls] = r as [number, number, number, number, number, number];
    if (score < o.scoreThreshold || !Number.isInteger(cls) || cls < 0 || cls >= labels.length) continue;
    cands.push({ box: [x1, y1, x2, y2], score, cls });
  }
  cands.sort((a, b) => b.score - a.score);
  const kept: typeof cands = [];
  for (const c of cands) {
    if (kept.length >= o.maxDetections) break;
    if (kept.every((k) => iou(k.box, c.box) <= o.iouThreshold)) kept.push(c);
  }
  const sx = o.photoWidth / o.inputSize;
  const sy = o.photoHeight / o.inputSize;
  return kept.map((k) => ({
    label: labels[k.cls]!,
    score: k.score,
    box: [k.box[0]! * sx, k.box[1]! * sy, k.box[2]! * sx, k.box[3]! * sy],
  }));
}

/** The distinct labels, best detection first: the prompt's "tags: …". */
export function tagsOf(dets: Detection[]): string[] {
  return [...new Set(dets.map((d) => d.label))];
}

export interface SafetyVerdict {
  unsafe: boolean;
  top: string;
  probabilities: Record<string, number>;
}

/** nsfwjs' classes → a verdict: unsafe when Porn, Hentai or Sexy together outweigh the rest
 * (their sum ≥ 0.5). Probabilities that are not finite make it unsafe: untrusted output
 * fails closed. */
export function safetyVerdict(probs: Float32Array, labels: string[]): SafetyVerdict {
  const p: Record<string, number> = {};
  labels.forEach((l, i) => (p[l] = probs[i] ?? NaN));
  const risky = ['Porn', 'Hentai', 'Sexy'].reduce((s, l) => s + (p[l] ?? 0), 0);
  const finite = labels.every((l) => Number.isFinite(p[l]));
  const top = labels.reduce((a, b) => ((p[b] ?? -1) > (p[a] ?? -1) ? b : a), labels[0] ?? '');
  return { unsafe: !finite || risky >= 0.5, top, probabilities: p };
}
