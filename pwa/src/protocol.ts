// The typed message protocol between the UI (main thread) and the core worker
// (pwa/src/worker/core_worker.ts), which hosts the wasm core, the OPFS vault and ONNX Runtime Web.
//
// Every request carries an id; the worker answers it with exactly one `result` or `error`, and
// before that any number of `progress` / `text` events for the same id. Errors keep their stable
// `code` across postMessage (CairnError below): the UI switches on the code, never on the text.
// Model output (captions, raw text) is untrusted: the UI renders it with textContent, never as HTML.
import type { StatusName } from '../../build/wasm-release/api/cairn_abi.js';
import type { PageToSw } from '../../service_worker/messages.js';

/** Stable error codes: the core's status names (generated from api/cairn_api.h, never copied
 * by hand) and the worker's own: the vault is locked, no model is installed. */
export type ErrorCode = Exclude<StatusName, 'ok'> | 'vault_locked' | 'no_model';

export class CairnError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'CairnError';
  }
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export type Preset = 'low' | 'preview' | 'final';
export type Tier = 'device' | 'edge' | 'cloud';
export type Backend = 'webnn' | 'webgpu' | 'wasm';

export interface Capabilities {
  webnn: boolean;            // navigator.ml.createContext() succeeded
  webgpu: boolean;           // an adapter was found
  webgpuFallbackAdapter: boolean;  // a software adapter (SwiftShader): never preferred
  wasmSimd: boolean;
  wasmThreads: boolean;
  crossOriginIsolated: boolean;
  deviceMemoryGb: number | null;
  cores: number;
  opfs: boolean;             // FileSystemSyncAccessHandle available in the worker
}

export interface StorageInfo {
  usageBytes: number;   // the origin's, as navigator.storage.estimate() says
  quotaBytes: number;
  persisted: boolean;   // navigator.storage.persisted()
  vaultBytes: number;   // the vault's files in OPFS (database, key file, blobs)
}

/** How the vault is opened. A vault has a passphrase or a device key, never both (the core
 * makes one wrapping of its database key at creation and rekeys only single-wrapped vaults). */
export type Unlock = { passphrase: string } | { deviceKey: true };

export interface UnlockKinds {
  passphrase: boolean;
  deviceKey: boolean;
  deviceKeyHere: boolean;  // this browser holds a wrapped device key
}

export type VaultState = 'absent' | 'locked' | 'unlocked' | 'damaged';

export interface PromptParts {
  task: string;
  context: string;
  style: string;
  outputFormat: string;
}

export interface DraftInput {
  caption: string;
  hashtags: string[];
  prompt: PromptParts;
  status: 'draft' | 'ready' | 'posted';
}

export interface Draft extends DraftInput {
  id: number;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface SearchHit {
  draftId: number;
  score: number;
  snippet: string;  // plain text
  /** Which search found it: its words (full text), its meaning (the embedding model), or both. */
  match: 'text' | 'meaning' | 'both';
}

export interface HashtagSuggestion {
  hashtag: string;  // "#" + a vocabulary word: plain text
  score: number;    // cosine similarity to the caption
}

/** What produced a photo result (DESIGN.md: provenance everywhere). */
export interface ImageModelProvenance {
  modelId: string;
  modelVersion: string;
  modelChecksum: string;   // BLAKE2b-256 of the model file, from the signed manifest
  variant: string;
  quantization: string;
  backend: string;         // what actually ran, e.g. "ort-web-wasm"
  licence: string;         // SPDX
}

export interface PhotoDetection {
  label: string;           // from the manifest's labels: plain text
  score: number;
  box: [number, number, number, number];  // x1, y1, x2, y2 in the photo's pixels
}

export interface PhotoAnalysis {
  width: number;
  height: number;
  /** null: no photo-tags model installed; refused: the licence policy said no (the reason). */
  tags: { labels: string[]; detections: PhotoDetection[]; provenance: ImageModelProvenance } | { refused: string } | null;
  /** null: no image-safety model installed. */
  safety: { unsafe: boolean; top: string; probabilities: Record<string, number>; provenance: ImageModelProvenance } | null;
  /** "photo: …; tags: …" for the prompt's Context, or "" without tags. */
  context: string;
}

/** A photo, render or HQ caption result kept in the vault (its bytes encrypted in the blob
 * store; a caption-hq asset's bytes are the server's result JSON). */
export interface Asset {
  id: number;
  kind: 'photo' | 'render' | 'thumbnail' | 'caption-hq';
  mime: string;
  blobHash: string;          // BLAKE2b-256 of the bytes: an image export's "source"
  bytes: number;
  width: number;
  height: number;
  draftId: number | null;
  /** The HQ job that made it (a render, a caption-hq result); null for the creator's own. */
  jobId: number | null;
  createdAtMs: number;
  /** caption-hq only: the captions, best first, read out of the result in the vault. Untrusted
   * model output: render as text. */
  captions?: string[];
  /** What made it: a render's renderer (modelId), libvips (modelVersion), checksum, tier, preset;
   * a caption-hq result's model, version, checksum, quantization, the backend that ran, tier. */
  provenance: Omit<Provenance, 'promptSchema' | 'tier' | 'preset'> & { tier: string; preset: string };
  /** Untrusted (model and server output): a photo's tags and safety verdict, a render's job and
   * rendition. Render as text. */
  details: Record<string, unknown>;
}

export interface Workspace {
  /** A commercial workspace refuses models whose licence does not allow commercial use. */
  commercial: boolean;
}

/** Search by meaning: off until an embedding pack is installed. */
export interface SemanticStatus {
  modelId: string | null;
  variant: string | null;
  backend: Backend | null;
  embedMsPerText: number | null;  // p50 on this device, per text in a batch
  searchMsP50: number | null;     // query embedding + fused search
}

export interface Provenance {
  modelId: string;
  modelVersion: string;
  modelChecksum: string;
  quantization: string;
  backend: string;  // the backend that actually ran, e.g. "ort-web-wasm"
  tier: Tier;
  preset: Preset;
  promptSchema: number;
  seed: number;
}

export interface CaptionRequest {
  prompt: PromptParts;       // outputFormat may be empty: the core writes it
  count: number;             // 1..10
  maxChars: number;
  maxHashtags: number;       // -1: no limit
  emojiRequired: boolean;
  banned: string[];
  preset: Preset;
  seed: number;
  backend?: Backend | null;  // try this execution provider first (it falls back if it fails)
}

export interface CheckedCaption {
  text: string;              // untrusted: render as text
  problems: string[];
  safety: { verdict: 'clean' | 'needs_review' | 'blocked'; reasons: string[] };
}

export interface CaptionResult {
  /** Execution providers tried before the one that ran, and why each failed. */
  fallbacks: { backend: Backend; error: string }[];
  captions: CheckedCaption[];
  problems: string[];
  provenance: Provenance;
  promptTokens: number;
  generatedTokens: number;
  tokensPerSecond: number;
  totalMs: number;
}

export interface ModelEntry {
  id: string;
  version: string;
  task: string;               // "caption", ...
  bytes: number;              // download size of the variant this device would use
  licence: string;            // SPDX
  commercialUse: boolean;
  state: 'available' | 'downloading' | 'installed' | 'failed';
  variant: string | null;     // installed variant
  backend: Backend | null;    // the backend measured fastest / that ran
  p50Ms: number | null;       // per-token latency measured on this device
  p95Ms: number | null;
  previewP50Ms: number | null; // a preview (PREVIEW), start to finish, on this device
  previewP95Ms: number | null;
  previewRuns: number;        // how many previews the two figures above come from
}

/** A preview: one short caption on the Low preset (DESIGN.md: low-fidelity previews first).
 * The worker times every generation of this shape; the UI offers "fast preview" (compose
 * previews a caption as the creator types) only when its p95 on this device is under
 * FAST_PREVIEW_P95_MS. */
export const PREVIEW = { count: 1, preset: 'low', maxChars: 80 } as const satisfies {
  count: number; preset: Preset; maxChars: number;
};
export const FAST_PREVIEW_P95_MS = 400;

/** Whether this device may offer fast preview on model `m` (measured, and fast enough). */
export function fastPreviewOffered(m: Pick<ModelEntry, 'previewP95Ms'>): boolean {
  return m.previewP95Ms !== null && m.previewP95Ms < FAST_PREVIEW_P95_MS;
}

export type JobState = 'queued' | 'sending' | 'accepted' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: number;
  kind: 'caption-hq' | 'image-export';
  preset: Preset;
  state: JobState;
  lastError: string;
  createdAtMs: number;
  updatedAtMs: number;
  draftId: number | null;
  result: unknown | null;
}

/** Request name → [argument, result]. */
export interface Api {
  'capabilities': [void, Capabilities];
  'storage.info': [void, StorageInfo];
  'vault.state': [void, VaultState];
  'vault.create': [Unlock, void];
  'vault.unlock': [Unlock, void];
  'vault.unlockKinds': [void, UnlockKinds];
  'vault.lock': [void, void];
  'vault.reset': [void, void];   // the recovery screen's last resort: deletes the vault
  'drafts.list': [{ limit: number; offset: number }, Draft[]];
  'drafts.get': [{ id: number }, Draft];
  'drafts.save': [{ id: number | null; draft: DraftInput }, Draft];
  'drafts.search': [{ query: string; limit: number }, SearchHit[]];
  'drafts.semanticStatus': [void, SemanticStatus];
  'hashtags.suggest': [{ text: string; limit: number }, HashtagSuggestion[]];
  'photo.analyze': [{ photo: Blob }, PhotoAnalysis];
  // Keeps the photo in the vault as a "photo" asset with what the models said about it.
  'photo.save': [{ photo: Blob; name: string; analysis: PhotoAnalysis | null }, Asset];
  'assets.list': [{ kind: Asset['kind'] | ''; limit: number }, Asset[]];
  // An asset's bytes out of the vault (authenticated, hash checked), for a blob: URL.
  'assets.bytes': [{ blobHash: string; mime: string }, Blob];
  // An image asset decoded in the worker and scaled to fit `maxSide` (a thumbnail): pixels,
  // never markup.
  'assets.thumbnail': [{ blobHash: string; mime: string; maxSide: number }, ImageBitmap];
  // Deletes the asset; its blob goes unless something else in the vault still refers to it.
  // keptForExports: HQ exports not yet finished whose source this photo is; its bytes stay
  // (encrypted) until they end, so deleting it never breaks a queued export.
  'assets.delete': [{ id: number }, { blobsRemoved: number; keptForExports: number }];
  'workspace.get': [void, Workspace];
  'workspace.set': [Workspace, void];
  'models.list': [void, ModelEntry[]];
  'models.install': [{ id: string }, ModelEntry];     // progress events while downloading
  'captions.generate': [CaptionRequest, CaptionResult];  // text events while generating
  'jobs.enqueue': [{ kind: Job['kind']; preset: Preset; draftId: number | null; payload: unknown }, Job];
  'jobs.list': [void, Job[]];
  'sync.online': [{ online: boolean }, void];
  // A 'cairn-jobs' Background Sync fired while the app is open (service_worker/job_replay.ts):
  // run the sync engine now. Answers whether there is an engine to run (a vault is open).
  'sync.run': [void, { engineRuns: boolean }];
}
export type Op = keyof Api;

export type ToWorker = { id: number; op: Op; arg: unknown };

export type FromWorker =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; code: ErrorCode; message: string }
  | { id: number; type: 'progress'; loaded: number; total: number; label: string }
  | { id: number; type: 'text'; chunk: string }
  // Not tied to a request: a job changed state (the UI refreshes and may notify).
  | { id: 0; type: 'job'; job: Job }
  // Not tied to a request: a message for the service worker, which a dedicated worker cannot
  // reach; the UI forwards it (e.g. a copy of a job submission for Background Sync replay,
  // service_worker/messages.ts).
  | { id: 0; type: 'sw'; message: PageToSw };
