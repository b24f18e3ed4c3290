// Model packs in the worker: the server's catalogue, verified downloads into the vault (with
// progress and resume), and loading an installed caption model onto ONNX Runtime Web.
import type { Backend, Capabilities, ModelEntry } from '../protocol.js';
import { CairnError } from '../protocol.js';
import { backendOrder } from './capabilities.js';
import { LatencyWindow } from './latency.js';
import type { Core } from './core.js';
import { DecoderSession, EmbeddingSession, OneShotSession } from './ort_driver.js';
import { TextEmbedder } from './embedder.js';
import type { VariantSummary } from './variant_policy.js';
import { variantPreference } from './variant_policy.js';

export type { VariantSummary } from './variant_policy.js';

export interface PackSummary {
  id: string;
  version: string;
  task: string;
  licence: { spdx: string; commercial_use: boolean };
  files: { name: string; size: number; blake2b?: string }[];
  variants: VariantSummary[];
  tokenizer_file: string;
  /** Embedding packs with a word vocabulary: the vocabulary file and its rule (cairn-words/1). */
  text?: { vocab: string; rule: string };
  /** Class names of image models, in output order. */
  labels?: string[];
}

export interface LoadedImageModel {
  id: string;
  version: string;
  variant: string;
  precision: string;
  checksum: string; // the variant file's BLAKE2b-256 from the signed manifest
  licence: string;
  labels: string[];
  session: OneShotSession;
}

interface IndexPack {
  id: string; // the directory on the server
  manifest: PackSummary;
}

export interface LoadedModel {
  id: string;
  variant: string;
  precision: string;
  decoder: DecoderSession;
  handle: number; // cairn_caption_model*
}

const MAX_ATTEMPTS = 6;
const CHUNK = 1 << 20;
/** How much a download appends between checkpoints (each syncs and records its progress). */
const CHECKPOINT_BYTES = 4 << 20;
// Previews timed per model: enough for a p95 that moves with the device's state, not one run.
const PREVIEW_WINDOW = 20;
// A model file a download verified is kept in memory for the load that follows the install
// (Models.handoff) if it is at most this big, for at most HANDOFF_MS.
const HANDOFF_MAX_BYTES = 256 << 20;
const HANDOFF_MS = 60_000;

export class Models {
  private index = new Map<string, IndexPack>();
  private loaded = new Map<string, LoadedModel>();
  private lastBackend = new Map<string, Backend>();
  /** The model file the last download verified, for the load that usually follows an install:
   * that load then needs no decrypt-and-verify round trip through the vault. The bytes were
   * checked against the signed manifest as they streamed and never left this worker; keyed by
   * the manifest's BLAKE2b, taken by the first load, dropped after HANDOFF_MS. */
  private handoff: { hash: string; bytes: Uint8Array } | null = null;
  /** Per caption model, how long previews (PREVIEW) took on this device. */
  private previews = new Map<string, LatencyWindow>();
  private embedderCache: TextEmbedder | null = null;
  private imageModels = new Map<string, LoadedImageModel>();

  constructor(
    private readonly core: Core,
    private readonly trustedKeys: string,
    private readonly caps: () => Capabilities,
  ) {}

  /** What the server offers (when reachable; the service worker answers offline) merged with
   * what the vault holds. */
  async list(vault: number): Promise<ModelEntry[]> {
    try {
      const res = await fetch(new URL('models/index.json', self.location.href));
      if (res.ok) {
        const body = (await res.json()) as { packs: IndexPack[] };
        this.index = new Map(body.packs.map((p) => [p.manifest.id, p]));
      }
    } catch {
      // Offline with nothing cached: the installed models are still listed.
    }
    return this.entries(vault);
  }

  /** The last offer seen (list()) merged with what the vault holds now: no network. */
  private entries(vault: number): ModelEntry[] {
    const installed = this.core.json<{ id: string; version: string; task: string; licence: string; commercial_use: boolean; state: string; bytes: number }[]>(
      'models_list',
      vault,
    );
    const entries = new Map<string, ModelEntry>();
    const order = backendOrder(this.caps(), null);
    for (const p of this.index.values()) {
      const m = p.manifest;
      const v = variantPreference(m, order)[0];
      const bytes =
        (m.files.find((f) => f.name === v?.file)?.size ?? 0) +
        (m.files.find((f) => f.name === m.tokenizer_file)?.size ?? 0) +
        (m.files.find((f) => f.name === m.text?.vocab)?.size ?? 0);
      entries.set(m.id, this.entry(m.id, m.version, m.task, bytes, m.licence.spdx, m.licence.commercial_use, 'available'));
    }
    for (const i of installed) {
      const task = i.task || this.index.get(i.id)?.manifest.task || 'caption-lm';
      entries.set(i.id, this.entry(i.id, i.version, task, i.bytes, i.licence, i.commercial_use, i.state as ModelEntry['state']));
    }
    return [...entries.values()];
  }

  private entry(
    id: string, version: string, task: string, bytes: number, licence: string,
    commercialUse: boolean, state: ModelEntry['state'],
  ): ModelEntry {
    const l = this.loaded.get(id);
    const lat = l?.decoder.latency() ?? null;
    const preview = this.previews.get(id);
    const pv = preview?.percentiles() ?? null;
    return {
      id, version, task, bytes, licence, commercialUse, state,
      variant: l?.variant ?? null,
      backend: l?.decoder.backend ?? this.lastBackend.get(id) ?? null,
      p50Ms: lat?.p50 ?? null,
      p95Ms: lat?.p95 ?? null,
      previewP50Ms: pv?.p50 ?? null,
      previewP95Ms: pv?.p95 ?? null,
      previewRuns: preview?.count ?? 0,
    };
  }

  /** Downloads pack `id`: its manifest is verified first, then each file it needs streams into
   * the vault's blob store, checked against the signed manifest. */
  async install(
    vault: number,
    id: string,
    progress: (loaded: number, total: number, label: string) => void,
  ): Promise<ModelEntry> {
    if (!this.index.has(id)) await this.list(vault);
    const p = this.index.get(id);
    if (!p) throw new CairnError('not_found', `the server offers no model ${id}`);
    const base = new URL(`models/${encodeURIComponent(p.id)}/`, self.location.href);
    const [manifest, signature] = await Promise.all([
      fetchBytes(new URL('manifest.json', base)),
      fetchBytes(new URL('manifest.sig', base)),
    ]);
    const core = this.core;
    const { pack, summary } = this.openPack(manifest, signature);
    try {
      const variant = variantPreference(summary, backendOrder(this.caps(), null))[0];
      if (!variant) throw new CairnError('unsupported', `model ${id} has no variant for this browser`);
      const files = [variant.file, summary.tokenizer_file, summary.text?.vocab ?? ''].filter(Boolean);
      const sizes = files.map((f) => summary.files.find((x) => x.name === f)!.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      let done = 0;
      for (const [i, name] of files.entries()) {
        const keep = name === variant.file ? summary.files.find((f) => f.name === name)?.blake2b : undefined;
        await this.download(vault, pack, new URL(encodeURIComponent(name), base), name, sizes[i]!, (n) =>
          progress(done + n, total, name), keep,
        );
        done += sizes[i]!;
      }
      core.check(core.fn('pack_install')(vault, pack));
    } finally {
      core.fn('pack_close')(pack);
    }
    return this.entries(vault).find((m) => m.id === id)!;
  }

  /** Verifies a downloaded manifest against its signature and the trusted keys. */
  private openPack(manifest: Uint8Array, signature: Uint8Array): { pack: number; summary: PackSummary } {
    const core = this.core;
    return core.withBytes(manifest, (mp) =>
      core.withBytes(signature, (sp) =>
        core.withStrings([this.trustedKeys], ([keys]) => {
          const slot = core.fn('malloc')(8);
          try {
            core.check(
              core.fn('pack_open')(mp, manifest.length, sp, signature.length, keys!, slot, slot + 4),
            );
            const summary = JSON.parse(core.takeString(core.m.HEAP32[(slot + 4) >> 2]!)) as PackSummary;
            return { pack: core.m.HEAP32[slot >> 2]!, summary };
          } finally {
            core.fn('free')(slot);
          }
        }),
      ),
    );
  }

  /** Streams one file into the vault. The writer goes on from the checkpoint an earlier,
   * interrupted download left (this session's or one before a reload), so only the rest is
   * fetched; a checkpoint is taken every CHECKPOINT_BYTES and before each retry. */
  private async download(
    vault: number, pack: number, url: URL, name: string, size: number,
    progress: (n: number) => void, handoffHash?: string,
  ): Promise<void> {
    const core = this.core;
    const writer = core.withStrings([name], ([n]) => core.out('model_file_writer_open', vault, pack, n!));
    const buf = core.fn('malloc')(CHUNK);
    const checkpoint = () => core.check(core.fn('model_file_writer_checkpoint')(writer));
    try {
      let received = core.fn('model_file_writer_offset')(writer);
      // A copy for the handoff, from a download that starts at the beginning (a resumed one has
      // the start only in the vault).
      let copy = handoffHash && received === 0 && size <= HANDOFF_MAX_BYTES ? new Uint8Array(size) : null;
      let checkpointed = received;
      if (received > 0) progress(received);
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(url, {
            cache: 'no-store',
            headers: received > 0 ? { Range: `bytes=${received}-` } : {},
          });
          if (!res.ok || !res.body) throw new CairnError('unavailable', `HTTP ${res.status} for ${name}`);
          // A server that ignores Range sends the whole file: the bytes already held are skipped.
          let skip = received > 0 && res.status !== 206 ? received : 0;
          const reader = res.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            const fresh = skip >= value.length ? value.subarray(value.length) : value.subarray(skip);
            skip = Math.max(0, skip - value.length);
            for (let off = 0; off < fresh.length; off += CHUNK) {
              const piece = fresh.subarray(off, Math.min(fresh.length, off + CHUNK));
              core.m.HEAPU8.set(piece, buf);
              core.check(core.fn('model_file_writer_append')(writer, buf, piece.length));
              if (copy && received + piece.length <= size) copy.set(piece, received);
              else copy = null;
              received += piece.length;
              progress(received);
            }
            if (received - checkpointed >= CHECKPOINT_BYTES) {
              checkpoint();
              checkpointed = received;
            }
          }
          // A body cut short by the network (a clean close mid-file) is resumed like any other
          // interruption; the manifest's checks at commit are kept for what the server sent.
          if (received < size) {
            throw new CairnError('unavailable', `the download of ${name} stopped at ${received} of ${size} bytes`);
          }
          break;
        } catch (e) {
          // The verifier's refusals are final; network trouble resumes where it stopped, now
          // or, if every attempt fails, at the next install (even after a reload).
          if (e instanceof CairnError && e.code !== 'unavailable') throw e;
          if (received > checkpointed) {
            checkpoint();
            checkpointed = received;
          }
          if (attempt >= MAX_ATTEMPTS) {
            throw new CairnError('unavailable', `download of ${name} failed: ${(e as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
      core.check(core.fn('model_file_writer_commit')(writer));
      // Committed: the manifest's size and BLAKE2b held for exactly these bytes.
      if (copy && handoffHash && received === size) {
        const h = (this.handoff = { hash: handoffHash, bytes: copy });
        setTimeout(() => {
          if (this.handoff === h) this.handoff = null;
        }, HANDOFF_MS);
      }
    } finally {
      core.fn('free')(buf);
      core.fn('model_file_writer_close')(writer);
    }
  }

  /** Whether a preview of caption model `id` was timed in this session. */
  previewTimed(id: string): boolean {
    return (this.previews.get(id)?.count ?? 0) > 0;
  }

  /** Records how long a preview (PREVIEW) of caption model `id` took, start to finish. */
  recordPreview(id: string, ms: number): void {
    let w = this.previews.get(id);
    if (!w) this.previews.set(id, (w = new LatencyWindow(PREVIEW_WINDOW)));
    w.add(ms);
  }

  /** The installed caption model, loaded and warmed on the first backend that works. */
  async captionModel(vault: number, id: string, prefer: Backend | null): Promise<LoadedModel> {
    const have = this.loaded.get(id);
    if (have && (prefer === null || have.decoder.backend === prefer || have.decoder.attempts.some((a) => a.backend === prefer))) {
      return have;
    }
    if (have) this.unload(id);
    const core = this.core;
    const slot = core.fn('malloc')(8);
    let pack = 0;
    let summary: PackSummary;
    try {
      core.withStrings([id, this.trustedKeys], ([i, k]) =>
        core.check(core.fn('pack_open_installed')(vault, i!, k!, slot, slot + 4)),
      );
      pack = core.m.HEAP32[slot >> 2]!;
      summary = JSON.parse(core.takeString(core.m.HEAP32[(slot + 4) >> 2]!)) as PackSummary;
    } finally {
      core.fn('free')(slot);
    }
    try {
      const order = backendOrder(this.caps(), prefer);
      for (const v of variantPreference(summary, order)) {
        let bytes: Uint8Array;
        try {
          bytes = this.readFile(vault, pack, v.file, summary);
        } catch (e) {
          if (e instanceof CairnError && e.code === 'not_found') continue; // not downloaded
          throw e;
        }
        const decoder = await DecoderSession.create(bytes, v.inputs ?? [], order);
        const handle = core.withStrings([v.name], ([n]) =>
          core.out('caption_model_create', vault, pack, n!, decoder.vocabSize),
        );
        const model = { id, variant: v.name, precision: v.precision, decoder, handle };
        this.loaded.set(id, model);
        this.lastBackend.set(id, decoder.backend);
        return model;
      }
      throw new CairnError('not_found', `model ${id} has no downloaded variant for this browser`);
    } finally {
      core.fn('pack_close')(pack);
    }
  }

  /** The installed embedding pack (the first, by id), loaded: its vocabulary in the core (read
   * from the vault and verified against the signed manifest) and its graph warmed on the first
   * backend that works. null when none is installed. */
  async embedder(vault: number): Promise<TextEmbedder | null> {
    if (this.embedderCache) return this.embedderCache;
    const installed = this.core
      .json<{ id: string; task: string; state: string }[]>('models_list', vault)
      .filter((m) => m.task === 'embedding' && m.state === 'installed')
      .sort((a, b) => a.id.localeCompare(b.id));
    if (installed.length === 0) return null;
    const id = installed[0]!.id;
    const core = this.core;
    const { pack, summary } = this.openInstalled(vault, id);
    let vocab = 0;
    try {
      vocab = core.out('word_vocab_open', vault, pack);
      const order = backendOrder(this.caps(), null);
      for (const v of variantPreference(summary, order)) {
        let bytes: Uint8Array;
        try {
          bytes = this.readFile(vault, pack, v.file, summary);
        } catch (e) {
          if (e instanceof CairnError && e.code === 'not_found') continue; // not downloaded
          throw e;
        }
        const session = await EmbeddingSession.create(bytes, order);
        this.lastBackend.set(id, session.backend);
        this.embedderCache = new TextEmbedder(core, { modelId: id, variant: v.name, backend: session.backend }, vocab, session);
        vocab = 0;
        return this.embedderCache;
      }
      throw new CairnError('not_found', `model ${id} has no downloaded variant for this browser`);
    } finally {
      if (vocab) core.fn('word_vocab_close')(vocab);
      core.fn('pack_close')(pack);
    }
  }

  /** The installed pack for an image task ('image-tags' | 'image-safety'), loaded on the first
   * backend that works; null when none is installed. The core checks the licence against the
   * workspace when it opens the pack: a refusal is a CairnError 'permission_denied' naming why. */
  async imageModel(vault: number, task: 'image-tags' | 'image-safety'): Promise<LoadedImageModel | null> {
    const installed = this.core
      .json<{ id: string; task: string; state: string }[]>('models_list', vault)
      .filter((m) => m.task === task && m.state === 'installed')
      .sort((a, b) => a.id.localeCompare(b.id));
    if (installed.length === 0) return null;
    const id = installed[0]!.id;
    const { pack, summary } = this.openInstalled(vault, id); // licence checked here, every time
    try {
      const have = this.imageModels.get(id);
      if (have && have.version === summary.version) return have;
      const labels = summary.labels ?? [];
      if (labels.length === 0) throw new CairnError('corruption', `model ${id} has no labels in its manifest`);
      const order = backendOrder(this.caps(), null);
      for (const v of variantPreference(summary, order)) {
        let bytes: Uint8Array;
        try {
          bytes = this.readFile(vault, pack, v.file, summary);
        } catch (e) {
          if (e instanceof CairnError && e.code === 'not_found') continue;
          throw e;
        }
        const session = await OneShotSession.create(bytes, order);
        const m: LoadedImageModel = {
          id, version: summary.version, variant: v.name, precision: v.precision,
          checksum: summary.files.find((f) => f.name === v.file)?.blake2b ?? '',
          licence: summary.licence.spdx, labels, session,
        };
        this.imageModels.set(id, m);
        this.lastBackend.set(id, session.backend);
        return m;
      }
      throw new CairnError('not_found', `model ${id} has no downloaded variant for this browser`);
    } finally {
      this.core.fn('pack_close')(pack);
    }
  }

  private openInstalled(vault: number, id: string): { pack: number; summary: PackSummary } {
    const core = this.core;
    const slot = core.fn('malloc')(8);
    try {
      core.withStrings([id, this.trustedKeys], ([i, k]) =>
        core.check(core.fn('pack_open_installed')(vault, i!, k!, slot, slot + 4)),
      );
      const pack = core.m.HEAP32[slot >> 2]!;
      return { pack, summary: JSON.parse(core.takeString(core.m.HEAP32[(slot + 4) >> 2]!)) as PackSummary };
    } finally {
      core.fn('free')(slot);
    }
  }

  unload(id: string): void {
    const m = this.loaded.get(id);
    if (!m) return;
    m.decoder.reset();
    this.core.fn('caption_model_close')(m.handle);
    this.loaded.delete(id);
  }

  unloadAll(): void {
    for (const id of [...this.loaded.keys()]) this.unload(id);
    void this.embedderCache?.close();
    this.embedderCache = null;
    for (const m of this.imageModels.values()) void m.session.release();
    this.imageModels.clear();
  }

  /** File `name` of an installed pack, decrypted and checked against its manifest; or, when it
   * is the file a download just verified (the same BLAKE2b in `summary`), that download's
   * bytes, once. */
  private readFile(vault: number, pack: number, name: string, summary: PackSummary): Uint8Array {
    const fresh = this.handoff;
    const hash = summary.files.find((f) => f.name === name)?.blake2b;
    if (fresh && hash && fresh.hash === hash) {
      this.handoff = null;
      return fresh.bytes;
    }
    const core = this.core;
    const slot = core.fn('malloc')(8);
    try {
      core.withStrings([name], ([n]) => core.check(core.fn('pack_read_file')(vault, pack, n!, slot, slot + 4)));
      const p = core.m.HEAP32[slot >> 2]!;
      const size = core.m.HEAP32[(slot + 4) >> 2]! >>> 0;
      const bytes = core.m.HEAPU8.slice(p, p + size);
      core.fn('free')(p);
      return bytes;
    } finally {
      core.fn('free')(slot);
    }
  }
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new CairnError('unavailable', `could not reach ${url.pathname}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new CairnError('unavailable', `HTTP ${res.status} for ${url.pathname}`);
  return new Uint8Array(await res.arrayBuffer());
}
