// The compose screen's photo in the worker: decoded (createImageBitmap + OffscreenCanvas),
// preprocessed as each pack's manifest says (image_prep.ts), run through the installed
// image-tags and image-safety packs on ONNX Runtime Web, post-processed, and returned with the
// provenance of each result. The licence policy is the core's: in a commercial workspace the
// photo-tags pack (licence unknown, non-commercial) is refused at load, and the reason is
// returned for the UI to show.
import type { ImageModelProvenance, PhotoAnalysis } from '../protocol.js';
import { CairnError } from '../protocol.js';
import type { Detection, SafetyVerdict } from './image_prep.js';
import { CENTERNET_DEFAULTS, decodeDetections, resizeBilinearRgb, safetyVerdict, tagsOf } from './image_prep.js';
import type { LoadedImageModel, Models } from './models.js';

/** Photos larger than this on a side are first drawn at this size (bounds memory: a 12 MP
 * photo's RGBA is 48 MB); the models' own resize follows. */
const MAX_SIDE = 4096;

export interface Pixels {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

export async function decodePhoto(photo: Blob): Promise<Pixels> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(photo);
  } catch (e) {
    throw new CairnError('invalid_argument', `the photo could not be decoded: ${(e as Error).message}`);
  }
  const k = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * k));
  const height = Math.max(1, Math.round(bitmap.height * k));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new CairnError('unsupported', 'this browser has no 2D OffscreenCanvas');
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}

function provenance(m: LoadedImageModel): ImageModelProvenance {
  return {
    modelId: m.id, modelVersion: m.version, modelChecksum: m.checksum, variant: m.variant,
    quantization: m.precision, backend: `ort-web-${m.session.backend}`, licence: m.licence,
  };
}

/** A pack's one float32 input: its name in the graph, the data and its dimensions. */
export interface ModelInput {
  name: string;
  data: Float32Array;
  dims: number[];
}

/** The image-tags pack's input from decoded pixels, resized as its manifest says. */
export function tagsInput(px: Pixels): ModelInput {
  return { name: 'images', dims: [1, 512, 512, 3],
    data: resizeBilinearRgb(px.rgba, px.width, px.height, { width: 512, height: 512, alignCorners: false, scale: 1 }) };
}

/** The image-safety pack's input from decoded pixels, resized and scaled as its manifest says. */
export function safetyInput(px: Pixels): ModelInput {
  return { name: 'input', dims: [1, 224, 224, 3],
    data: resizeBilinearRgb(px.rgba, px.width, px.height, { width: 224, height: 224, alignCorners: true, scale: 1 / 255 }) };
}

/** The image-tags pack on decoded pixels: resized as its manifest says, run, its detections
 * decoded (threshold, non-max suppression, top-k) in the photo's coordinates. */
export async function detectTags(m: LoadedImageModel, px: Pixels): Promise<{ labels: string[]; detections: Detection[] }> {
  const input = tagsInput(px);
  const out = await m.session.run(input.name, input.data, input.dims, ['detections']);
  const detections = decodeDetections(out['detections']!, m.labels, {
    ...CENTERNET_DEFAULTS, photoWidth: px.width, photoHeight: px.height,
  });
  return { labels: tagsOf(detections), detections };
}

/** The image-safety pack on decoded pixels: resized and scaled as its manifest says, run, and
 * its class probabilities turned into a verdict. */
export async function checkSafety(m: LoadedImageModel, px: Pixels): Promise<SafetyVerdict> {
  const input = safetyInput(px);
  const out = await m.session.run(input.name, input.data, input.dims, ['probabilities']);
  return safetyVerdict(out['probabilities']!, m.labels);
}

export async function analyzePhoto(models: Models, vault: number, photo: Blob): Promise<PhotoAnalysis> {
  const px = await decodePhoto(photo);
  const result: PhotoAnalysis = { width: px.width, height: px.height, tags: null, safety: null, context: '' };

  let tagsModel: LoadedImageModel | null = null;
  try {
    tagsModel = await models.imageModel(vault, 'image-tags');
  } catch (e) {
    if (!(e instanceof CairnError) || e.code !== 'permission_denied') throw e;
    result.tags = { refused: e.message };
  }
  if (tagsModel) {
    const { labels, detections } = await detectTags(tagsModel, px);
    result.tags = { labels, detections, provenance: provenance(tagsModel) };
    if (labels.length) result.context = `photo: ${labels.slice(0, 3).join(' and ')}; tags: ${labels.join(', ')}`;
  }

  const safetyModel = await models.imageModel(vault, 'image-safety');
  if (safetyModel) result.safety = { ...(await checkSafety(safetyModel, px)), provenance: provenance(safetyModel) };
  return result;
}
