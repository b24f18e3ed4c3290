// Model packs in the worker: the server's catalogue, verified downloads into the vault (with
// progress and resume), and loading an installed caption model onto ONNX Runtime Web.
import type { Backend, Capabilities, ModelEntry } from '../protocol.js';
import { CairnError } from '../protocol.js';
import { backendOrder } from './capabilities.js';
import type { Core } from './core.js';
import type { TensorSpec } from './ort_driver.js';
import { DecoderSession } from './ort_driver.js';

export interface VariantSummary {
  name: string;
  runtime: string;
  precision: string;
  execution_providers: string[];
  file: string;
  inputs?: TensorSpec[];
}

export interface PackSummary {
  id: string;
  version: string;
  task: string;
  licence: { spdx: string; commercial_use: boolean };
  files: { name: string; size: number; blake2b?: string }[];
  variants: VariantSummary[];
  tokenizer_file: string;
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

/** The web variants in the order this device should try them: for each backend in order, the
 * variants that run on it, smallest file first. */
export function variantPreference(pack: PackSummary, order: Backend[]): VariantSummary[] {
  const size = (v: VariantSummary) => pack.files.find((f) => f.name === v.file)?.size ?? Infinity;
  const out: VariantSummary[] = [];
  for (const b of order) {
    const fits = pack.variants
      .filter((v) => v.runtime === 'ort-web' && v.execution_providers.includes(b))
      .sort((a, b2) => size(a) - size(b2));
    for (const v of fits) if (!out.includes(v)) out.push(v);
  }
  return out;
}

export class Models {
  private index = new Map<string, IndexPack>();
  private loaded = new Map<string, LoadedModel>();
  private lastBackend = new Map<string, Backend>();

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
    const installed = this.core.json<{ id: string; version: string; licence: string; commercial_use: boolean; state: string; bytes: number }[]>(
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
        (m.files.find((f) => f.name === m.tokenizer_file)?.size ?? 0);
      entries.set(m.id, this.entry(m.id, m.version, m.task, bytes, m.licence.spdx, m.licence.commercial_use, 'available'));
    }
    for (const i of installed) {
      const task = this.index.get(i.id)?.manifest.task ?? 'caption-lm';
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
    return {
      id, version, task, bytes, licence, commercialUse, state,
      variant: l?.variant ?? null,
      backend: l?.decoder.backend ?? this.lastBackend.get(id) ?? null,
      p50Ms: lat?.p50 ?? null,
      p95Ms: lat?.p95 ?? null,
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
      const files = [variant.file, summary.tokenizer_file].filter(Boolean);
      const sizes = files.map((f) => summary.files.find((x) => x.name === f)!.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      let done = 0;
      for (const [i, name] of files.entries()) {
        await this.download(vault, pack, new URL(encodeURIComponent(name), base), name, (n) =>
          progress(done + n, total, name),
        );
        done += sizes[i]!;
      }
      core.check(core.fn('pack_install')(vault, pack));
    } finally {
      core.fn('pack_close')(pack);
    }
    return (await this.list(vault)).find((m) => m.id === id)!;
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

  private async download(
    vault: number, pack: number, url: URL, name: string, progress: (n: number) => void,
  ): Promise<void> {
    const core = this.core;
    const writer = core.withStrings([name], ([n]) => core.out('model_file_writer_open', vault, pack, n!));
    const buf = core.fn('malloc')(CHUNK);
    try {
      let received = 0;
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(url, {
            cache: 'no-store',
            headers: received > 0 ? { Range: `bytes=${received}-` } : {},
          });
          if (received > 0 && res.status !== 206) {
            throw new CairnError('unavailable', `the server did not resume ${name} (HTTP ${res.status})`);
          }
          if (!res.ok || !res.body) throw new CairnError('unavailable', `HTTP ${res.status} for ${name}`);
          const reader = res.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            for (let off = 0; off < value.length; off += CHUNK) {
              const piece = value.subarray(off, Math.min(value.length, off + CHUNK));
              core.m.HEAPU8.set(piece, buf);
              core.check(core.fn('model_file_writer_append')(writer, buf, piece.length));
              received += piece.length;
              progress(received);
            }
          }
          break;
        } catch (e) {
          // The verifier's refusals are final; network trouble resumes where it stopped.
          if (e instanceof CairnError && e.code !== 'unavailable') throw e;
          if (attempt >= MAX_ATTEMPTS) {
            throw new CairnError('unavailable', `download of ${name} failed: ${(e as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
      core.check(core.fn('model_file_writer_commit')(writer));
    } finally {
      core.fn('free')(buf);
      core.fn('model_file_writer_close')(writer);
    }
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
          bytes = this.readFile(vault, pack, v.file);
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

  unload(id: string): void {
    const m = this.loaded.get(id);
    if (!m) return;
    m.decoder.reset();
    this.core.fn('caption_model_close')(m.handle);
    this.loaded.delete(id);
  }

  unloadAll(): void {
    for (const id of [...this.loaded.keys()]) this.unload(id);
  }

  private readFile(vault: number, pack: number, name: string): Uint8Array {
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
