// The core worker: hosts the wasm core (api/), the vault on OPFS (opfs_pool.ts) and ONNX Runtime
// Web (ort_driver.ts), and answers the UI's requests (protocol.ts), one at a time, in order.
import '../trusted_types.js'; // first: the Trusted Types policy the CSP requires
import type {
  Api, Asset, CaptionRequest, CaptionResult, Capabilities, Draft, DraftInput, FromWorker, Job, Op,
  SearchHit, SemanticStatus, StorageInfo, ToWorker, UnlockKinds, VaultState,
} from '../protocol.js';
import { CairnError, PREVIEW } from '../protocol.js';
import { probeCapabilities } from './capabilities.js';
import { runCaption } from './caption_loop.js';
import { Core } from './core.js';
import { DeviceKeyStore } from './device_key.js';
import { Models } from './models.js';
import { OpfsPool } from './opfs_pool.js';
import { analyzePhoto } from './photo.js';
import type { Serial } from './sync_host.js';
import { SyncHost } from './sync_host.js';

const VAULT_DIR = '/vault';

interface CDraft {
  id: number; version: number; created_at_ms: number; updated_at_ms: number; caption: string;
  hashtags: string[]; status: DraftInput['status'];
  prompt: { task: string; context: string; style: string; output_format: string };
}
interface CJob {
  id: number; kind: Job['kind']; preset: Job['preset']; state: Job['state']; last_error: string;
  created_at_ms: number; updated_at_ms: number; draft_id: number | null; result: unknown;
}
interface CAsset {
  id: number; kind: Asset['kind']; mime: string; blob_hash: string; bytes: number; width: number;
  height: number; draft_id: number | null; job_id?: number | null; created_at_ms: number;
  details: Record<string, unknown>;
  provenance: { model_id: string; model_version: string; model_checksum: string; quantization: string;
    backend: string; tier: string; preset: string; seed: number };
}
const toAsset = (a: CAsset): Asset => ({
  id: a.id, kind: a.kind, mime: a.mime, blobHash: a.blob_hash, bytes: a.bytes, width: a.width,
  height: a.height, draftId: a.draft_id ?? null, jobId: a.job_id ?? null,
  createdAtMs: a.created_at_ms, details: a.details,
  provenance: {
    modelId: a.provenance.model_id, modelVersion: a.provenance.model_version,
    modelChecksum: a.provenance.model_checksum, quantization: a.provenance.quantization,
    backend: a.provenance.backend, tier: a.provenance.tier, preset: a.provenance.preset, seed: a.provenance.seed,
  },
});
const toDraft = (d: CDraft): Draft => ({
  id: d.id, version: d.version, createdAtMs: d.created_at_ms, updatedAtMs: d.updated_at_ms,
  caption: d.caption, hashtags: d.hashtags, status: d.status,
  prompt: { task: d.prompt.task, context: d.prompt.context, style: d.prompt.style, outputFormat: d.prompt.output_format },
});
const toJob = (j: CJob): Job => ({
  id: j.id, kind: j.kind, preset: j.preset, state: j.state, lastError: j.last_error,
  createdAtMs: j.created_at_ms, updatedAtMs: j.updated_at_ms,
  draftId: j.draft_id ?? null, result: j.result ?? null,
});

class Worker {
  private vault = 0;
  private caps: Capabilities | null = null;
  private online = navigator.onLine;
  private readonly sync: SyncHost;
  private readonly deviceKey = new DeviceKeyStore(VAULT_DIR);
  // Caption models whose preview was timed once at their first generation (at most once each).
  private readonly calibrated = new Set<string>();

  constructor(
    private readonly pool: OpfsPool,
    private readonly core: Core,
    private readonly models: Models,
    private readonly post: (m: FromWorker) => void,
    private readonly serial: Serial,
  ) {
    this.sync = new SyncHost(
      core,
      serial,
      (jobId) => {
        const job = this.vault ? this.listJobs().find((j) => j.id === jobId) : undefined;
        if (job) this.post({ id: 0, type: 'job', job });
      },
      () => (this.vault ? this.listJobs() : []),
      (jobs) => {
        for (const job of jobs) this.post({ id: 0, type: 'job', job });
      },
      (message) => this.post({ id: 0, type: 'sw', message }),
    );
  }

  private listJobs(): Job[] {
    return this.core.json<CJob[]>('jobs_list', this.vault).map(toJob);
  }

  setCaps(c: Capabilities): void {
    this.caps = c;
  }

  capabilities(): Capabilities {
    return this.caps!;
  }

  private open(): number {
    if (!this.vault) throw new CairnError('vault_locked', 'the vault is locked: unlock it first');
    return this.vault;
  }

  private exists(): boolean {
    return this.core.withStrings([VAULT_DIR], ([d]) => this.core.out('vault_exists', d!) === 1);
  }

  async handle(id: number, op: Op, arg: unknown): Promise<unknown> {
    const core = this.core;
    switch (op) {
      case 'capabilities':
        return this.capabilities();
      case 'storage.info': {
        const est = await navigator.storage.estimate();
        const persisted = (await navigator.storage.persisted?.()) ?? false;
        const vaultBytes = this.pool.usedBytes();
        return { usageBytes: est.usage ?? vaultBytes, quotaBytes: est.quota ?? 0, persisted, vaultBytes } satisfies StorageInfo;
      }
      case 'vault.state': {
        if (this.vault) return 'unlocked' satisfies VaultState;
        return (this.exists() ? 'locked' : 'absent') satisfies VaultState;
      }
      case 'vault.create': {
        const how = arg as Api['vault.create'][0];
        if (this.exists()) throw new CairnError('already_exists', 'a vault already exists on this device');
        if ('passphrase' in how) {
          this.vault = core.withStrings([VAULT_DIR, how.passphrase], ([d, p]) => core.out('vault_create', d!, p!));
        } else {
          // The wrapped key is stored (and committed) first: a vault is never made that this
          // browser could not open again.
          const key = await this.deviceKey.create();
          try {
            this.vault = this.withDeviceKey('vault_create_with_device_key', key);
          } catch (e) {
            await this.deviceKey.remove();
            throw e;
          }
        }
        await this.sync.start(this.vault, this.online);
        return undefined;
      }
      case 'vault.unlock': {
        const how = arg as Api['vault.unlock'][0];
        if (this.vault) return undefined;
        this.vault =
          'passphrase' in how
            ? core.withStrings([VAULT_DIR, how.passphrase], ([d, p]) => core.out('vault_open', d!, p!))
            : this.withDeviceKey('vault_open_with_device_key', await this.deviceKey.unwrap());
        await this.sync.start(this.vault, this.online);
        return undefined;
      }
      case 'vault.unlockKinds': {
        const kinds = core.withStrings([VAULT_DIR], ([d]) =>
          core.json<{ passphrase: boolean; device_key: boolean }>('vault_unlock_kinds', d!));
        return {
          passphrase: kinds.passphrase, deviceKey: kinds.device_key, deviceKeyHere: await this.deviceKey.has(),
        } satisfies UnlockKinds;
      }
      case 'vault.lock':
        this.lock();
        return undefined;
      case 'vault.reset':
        this.lock();
        this.pool.wipe();
        await this.deviceKey.remove();
        return undefined;
      case 'drafts.list': {
        const { limit, offset } = arg as Api['drafts.list'][0];
        return core.json<CDraft[]>('drafts_list', this.open(), limit, offset).map(toDraft);
      }
      case 'drafts.get': {
        const { id: draftId } = arg as Api['drafts.get'][0];
        return toDraft(core.json<CDraft>('draft_get', this.open(), draftId, 0));
      }
      case 'drafts.save': {
        const { id: draftId, draft } = arg as Api['drafts.save'][0];
        const body = JSON.stringify({
          caption: draft.caption, hashtags: draft.hashtags, status: draft.status,
          prompt: { task: draft.prompt.task, context: draft.prompt.context, style: draft.prompt.style, output_format: draft.prompt.outputFormat },
        });
        // draft ids are small positive integers: they pass as the i64's low half.
        const saved = toDraft(core.withStrings([body], ([b]) => core.json<CDraft>('draft_save', this.open(), draftId ?? 0, 0, b!)));
        // The draft is committed; its vector follows (a failure here leaves it pending, and the
        // next search embeds it).
        await this.indexDrafts();
        return saved;
      }
      case 'drafts.search': {
        const { query, limit } = arg as Api['drafts.search'][0];
        const vault = this.open();
        const embedder = await this.embedderOrNull();
        if (embedder) return embedder.search(vault, query, limit);
        const hits = core.withStrings([query], ([q]) =>
          core.json<{ draft_id: number; score: number; snippet: string }[]>('drafts_search', vault, q!, limit));
        return hits.map((x): SearchHit => ({ draftId: x.draft_id, score: x.score, snippet: x.snippet, match: 'text' }));
      }
      case 'drafts.semanticStatus': {
        const e = await this.embedderOrNull();
        return {
          modelId: e?.info.modelId ?? null, variant: e?.info.variant ?? null, backend: e?.info.backend ?? null,
          ...(e?.stats() ?? { embedMsPerText: null, searchMsP50: null }),
        } satisfies SemanticStatus;
      }
      case 'hashtags.suggest': {
        const { text, limit } = arg as Api['hashtags.suggest'][0];
        const e = await this.embedderOrNull();
        if (!e) throw new CairnError('no_model', 'no embedding model is installed: install one on the Models screen');
        return e.suggest(text, limit);
      }
      case 'photo.analyze': {
        const { photo } = arg as Api['photo.analyze'][0];
        return analyzePhoto(this.models, this.open(), photo);
      }
      case 'photo.save': {
        const { photo, name, analysis } = arg as Api['photo.save'][0];
        const bytes = new Uint8Array(await photo.arrayBuffer());
        // What the on-device models said, with each model's provenance (untrusted labels: the
        // UI renders them as text).
        const tags = analysis?.tags && 'labels' in analysis.tags
          ? { labels: analysis.tags.labels, provenance: analysis.tags.provenance } : null;
        const safety = analysis?.safety
          ? { unsafe: analysis.safety.unsafe, top: analysis.safety.top, provenance: analysis.safety.provenance } : null;
        const meta = JSON.stringify({
          kind: 'photo', mime: photo.type.startsWith('image/') ? photo.type : 'image/jpeg',
          width: analysis?.width ?? 0, height: analysis?.height ?? 0,
          details: { name, tags, safety },
        });
        return toAsset(core.withStrings([meta], ([m]) =>
          core.withBytes(bytes, (p) => core.json<CAsset>('asset_add', this.open(), m!, p, bytes.length))));
      }
      case 'assets.list': {
        const { kind, limit } = arg as Api['assets.list'][0];
        const vault = this.open();
        const assets = core.withStrings([kind], ([k]) =>
          core.json<CAsset[]>('assets_list', vault, k!, limit, 0)).map(toAsset);
        // A caption-hq asset's captions come out of its blob (the result the core checked
        // before it saved it); only strings are taken, and they stay text.
        for (const a of assets) if (a.kind === 'caption-hq') a.captions = this.captionsOf(vault, a);
        return assets;
      }
      case 'assets.thumbnail': {
        const { blobHash, mime, maxSide } = arg as Api['assets.thumbnail'][0];
        const vault = this.open();
        if (!mime.startsWith('image/')) {
          throw new CairnError('invalid_argument', `no thumbnail for ${mime}`);
        }
        const bytes = core.withStrings([blobHash], ([h]) => core.bytes('blob_read', vault, h!));
        let full: ImageBitmap;
        try {
          full = await createImageBitmap(new Blob([bytes], { type: mime }));
        } catch (e) {
          const why = (e as Error).message;
          const what = `asset ${blobHash.slice(0, 12)}…`;
          throw new CairnError('corruption', `${what} is not a decodable image: ${why}`);
        }
        const k = Math.min(1, maxSide / Math.max(full.width, full.height));
        if (k === 1) return full;
        const scaled = await createImageBitmap(full, {
          resizeWidth: Math.max(1, Math.round(full.width * k)),
          resizeHeight: Math.max(1, Math.round(full.height * k)),
          resizeQuality: 'medium',
        });
        full.close();
        return scaled;
      }
      case 'assets.delete': {
        const { id: assetId } = arg as Api['assets.delete'][0];
        // Asset ids are small positive integers: they pass as the i64's low half.
        const r = core.json<{ blobs_removed: number; kept_for_exports: number }>('asset_delete', this.open(), assetId, 0);
        return { blobsRemoved: r.blobs_removed, keptForExports: r.kept_for_exports };
      }
      case 'assets.bytes': {
        const { blobHash, mime } = arg as Api['assets.bytes'][0];
        const vault = this.open();
        const bytes = core.withStrings([blobHash], ([h]) => core.bytes('blob_read', vault, h!));
        return new Blob([bytes], { type: mime });
      }
      case 'workspace.get':
        return { commercial: core.json<{ commercial: boolean }>('workspace_get', this.open()).commercial };
      case 'workspace.set': {
        const { commercial } = arg as Api['workspace.set'][0];
        core.check(core.fn('workspace_set')(this.open(), commercial ? 1 : 0));
        return undefined;
      }
      case 'models.list':
        return this.models.list(this.open());
      case 'models.install': {
        const { id: modelId } = arg as Api['models.install'][0];
        const entry = await this.models.install(this.open(), modelId, (loaded, total, label) =>
          this.post({ id, type: 'progress', loaded, total, label }));
        if (entry.task === 'embedding') await this.indexDrafts();
        return entry;
      }
      case 'captions.generate':
        return this.generate(id, arg as CaptionRequest);
      case 'jobs.enqueue': {
        const { kind, preset, draftId, payload } = arg as Api['jobs.enqueue'][0];
        // The payload goes to the server as is (it refuses unknown fields); the draft it came
        // from is kept with the job, on the device only. Draft ids are small positive integers:
        // they pass as the i64's low half.
        const body = JSON.stringify(payload);
        const job = toJob(core.withStrings([kind, preset, body], ([k, p, b]) =>
          core.json<CJob>('job_enqueue', this.open(), k!, p!, b!, draftId ?? 0, 0)));
        this.sync.event({ type: 'job_created', job_id: job.id });
        return this.listJobs().find((j) => j.id === job.id) ?? job;
      }
      case 'jobs.list':
        this.open();
        return this.listJobs();
      case 'sync.online': {
        const { online } = arg as Api['sync.online'][0];
        this.online = online;
        if (online) await this.sync.register();
        this.sync.event({ type: online ? 'online' : 'offline' });
        return undefined;
      }
      case 'sync.run':
        // A Background Sync fired: the connection is back, so run the engine now.
        this.online = true;
        await this.sync.register();
        this.sync.event({ type: 'online' });
        return { engineRuns: this.sync.running };
    }
    throw new CairnError('invalid_argument', `unknown request ${String(op)}`);
  }

  private captionsOf(vault: number, a: Asset): string[] {
    try {
      const bytes = this.core.withStrings([a.blobHash], ([h]) =>
        this.core.bytes('blob_read', vault, h!));
      const result = JSON.parse(new TextDecoder().decode(bytes)) as { captions?: unknown };
      if (!Array.isArray(result.captions)) return [];
      return result.captions
        .map((c: unknown) => (c && typeof c === 'object' ? (c as { text?: unknown }).text : null))
        .filter((t): t is string => typeof t === 'string');
    } catch (e) {
      console.warn(`cairn: the captions of asset ${a.id} could not be read:`, e);
      return [];
    }
  }

  private async embedderOrNull() {
    return this.models.embedder(this.open());
  }

  /** Embeds drafts saved since (or before) the embedding pack was installed; a failure is
   * logged and retried on the next save or search, never lost: the vault keeps them pending. */
  private async indexDrafts(): Promise<void> {
    try {
      const e = await this.embedderOrNull();
      if (e) await e.indexPending(this.open());
    } catch (err) {
      console.warn('cairn: embedding drafts failed; they stay pending:', err);
    }
  }

  // Opens or creates the vault with `key`, then wipes every copy of it this worker made.
  private withDeviceKey(fn: 'vault_create_with_device_key' | 'vault_open_with_device_key', key: Uint8Array): number {
    const core = this.core;
    try {
      return core.withStrings([VAULT_DIR], ([d]) =>
        core.withSecret(key, (k) => core.out(fn, d!, k, key.length)));
    } finally {
      key.fill(0);
    }
  }

  private lock(): void {
    this.sync.stop();
    this.models.unloadAll();
    if (this.vault) this.core.fn('vault_close')(this.vault);
    this.vault = 0;
  }

  private async generate(id: number, req: CaptionRequest): Promise<CaptionResult> {
    const vault = this.open();
    const installed = (await this.models.list(vault)).filter((m) => m.state === 'installed' && m.task === 'caption-lm');
    if (installed.length === 0) {
      throw new CairnError('no_model', 'no caption model is installed: install one on the Models screen');
    }
    const model = await this.models.captionModel(vault, installed[0]!.id, req.backend ?? null);
    const core = this.core;
    // After the first generation on a model (its kernels warm by then), one preview of a fixed
    // prompt is timed, queued behind this request, so the models screen and compose know from
    // then on whether fast preview suits this device.
    if (!this.models.previewTimed(model.id) && !this.calibrated.has(model.id)) {
      this.calibrated.add(model.id);
      this.serial(async () => {
        const t0 = performance.now();
        try {
          await runCaption(core, model, coreRequest({
            prompt: {
              task: 'Write Instagram captions', context: 'a cup of coffee by a window, morning',
              style: 'warm', outputFormat: '',
            },
            count: PREVIEW.count, maxChars: PREVIEW.maxChars, maxHashtags: 5,
            emojiRequired: false, banned: [], preset: PREVIEW.preset, seed: 1, backend: null,
          }));
          this.models.recordPreview(model.id, performance.now() - t0);
        } catch {
          // Unmeasured: fast preview stays unoffered, which is the safe side.
        }
      });
    }
    const request = coreRequest(req);
    const t0 = performance.now();
    const r = await runCaption(core, model, request, {
      text: (chunk) => this.post({ id, type: 'text', chunk }),
    });
    if (req.count === PREVIEW.count && req.preset === PREVIEW.preset &&
        req.maxChars === PREVIEW.maxChars) {
      this.models.recordPreview(model.id, performance.now() - t0);
    }
    const p = r.provenance;
    return {
      fallbacks: model.decoder.attempts,
      captions: r.captions.map((c) => ({
        text: c.text, problems: c.problems,
        safety: { verdict: c.safety.level as CaptionResult['captions'][0]['safety']['verdict'], reasons: c.safety.findings.map((f) => f.reason) },
      })),
      problems: r.problems,
      provenance: {
        modelId: p.model_id, modelVersion: p.model_version, modelChecksum: p.model_checksum,
        quantization: p.quantization, backend: p.backend, tier: p.tier as 'device',
        preset: p.preset as CaptionRequest['preset'], promptSchema: Number(p.prompt_schema.replace(/\D/g, '')) || 1,
        seed: p.seed,
      },
      promptTokens: r.stats.prompt_tokens,
      generatedTokens: r.stats.generated_tokens,
      tokensPerSecond: r.stats.tokens_per_second,
      totalMs: r.stats.total_ms,
    };
  }
}

/** A caption request as cairn_caption_start reads it (api/README.md). */
function coreRequest(req: CaptionRequest): string {
  return JSON.stringify({
    task: req.prompt.task, context: req.prompt.context, style: req.prompt.style,
    output_format: req.prompt.outputFormat, count: req.count, max_chars: req.maxChars,
    max_hashtags: req.maxHashtags, emoji_required: req.emojiRequired, banned: req.banned,
    preset: req.preset, seed: req.seed,
  });
}

// Start-up: requests that arrive before the core is ready wait for it; if it cannot start,
// each gets the reason (the UI shows the recovery screen).
const ready: Promise<{ worker: Worker; pool: OpfsPool }> = (async () => {
  const caps = await probeCapabilities();
  if (!caps.opfs) throw new CairnError('unsupported', 'this browser has no OPFS sync access handles');
  const pool = await OpfsPool.open('cairn');
  const core = await Core.load(pool);
  let keys = '';
  try {
    const res = await fetch(new URL('trusted-keys.json', self.location.href));
    if (res.ok) keys = ((await res.json()) as { keys: string[] }).keys.join(',');
  } catch {
    keys = '';
  }
  const models = new Models(core, keys, () => caps);
  const worker = new Worker(pool, core, models, (m) => self.postMessage(m), serial);
  worker.setCaps(caps);
  return { worker, pool };
})();

let queue: Promise<void> = Promise.resolve();
function serial(task: () => Promise<void> | void): void {
  queue = queue.then(task).catch((e: unknown) => console.error('cairn core worker:', e));
}
self.addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const { id, op, arg } = e.data;
  serial(async () => {
    try {
      const { worker, pool } = await ready;
      const value = await worker.handle(id, op, arg);
      await pool.topUp();
      self.postMessage({ id, type: 'result', value } satisfies FromWorker);
    } catch (err) {
      const code = err instanceof CairnError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      self.postMessage({ id, type: 'error', code, message } satisfies FromWorker);
    }
  });
});
