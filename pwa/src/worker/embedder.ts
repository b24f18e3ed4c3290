// Semantic draft search and hashtag suggestions in the worker: an installed embedding pack's
// word vocabulary in the core (cairn-words/1 from core/tokenizer/words, the same code as native;
// vocab.txt verified against the signed manifest as the core reads it from the vault), its
// wasm-int8 graph on ONNX Runtime Web (ort_driver.ts), and the vault storing each draft's vector
// and ranking (search fused from full text and meaning, hashtags nearest to a caption).
import type { Backend, HashtagSuggestion, SearchHit } from '../protocol.js';
import { CairnError } from '../protocol.js';
import type { Core } from './core.js';
import { EmbeddingSession } from './ort_driver.js';

/** How many vocabulary words the hashtag bank holds (the most frequent content words). */
const BANK_WORDS = 5000;
/** Drafts embedded per batch while catching up. */
const BATCH = 32;

export interface EmbedderInfo {
  modelId: string;
  variant: string;
  backend: Backend;
}

export class TextEmbedder {
  private bankReady = false;
  private readonly searchMs: number[] = [];

  constructor(
    private readonly core: Core,
    readonly info: EmbedderInfo,
    private readonly vocab: number, // cairn_word_vocab*
    private readonly session: EmbeddingSession,
  ) {}

  get dims(): number {
    return this.session.dims;
  }

  /** The content-word ids of `text`, by the core. */
  encode(text: string): Int32Array {
    const core = this.core;
    const slot = core.fn('malloc')(8);
    try {
      core.withStrings([text], ([t]) =>
        core.check(core.fn('word_vocab_encode')(this.vocab, t!, slot, slot + 4)),
      );
      return this.takeIds(slot);
    } finally {
      core.fn('free')(slot);
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return this.session.embed(texts.map((t) => this.encode(t)));
  }

  /** Embeds every draft whose vector is missing or stale; returns how many. */
  async indexPending(vault: number): Promise<number> {
    const core = this.core;
    let done = 0;
    for (;;) {
      const pending = core.withStrings([this.info.modelId], ([m]) =>
        core.json<{ draft_id: number; version: number; text: string }[]>('draft_vectors_pending', vault, m!, BATCH));
      if (pending.length === 0) return done;
      const vectors = await this.embed(pending.map((p) => p.text));
      pending.forEach((p, i) => {
        const v = vectors[i]!;
        this.withFloats(v, (vp) =>
          core.withStrings([this.info.modelId], ([m]) =>
            // int64 arguments cross as (low, high) halves: draft ids and versions are small.
            core.check(core.fn('draft_vector_put')(vault, p.draft_id, 0, p.version, 0, m!, vp, v.length))));
      });
      done += pending.length;
    }
  }

  async search(vault: number, query: string, limit: number): Promise<SearchHit[]> {
    await this.indexPending(vault);
    const t0 = performance.now();
    const [q] = await this.embed([query]);
    const core = this.core;
    const hits = this.withFloats(q!, (vp) =>
      core.withStrings([query, this.info.modelId], ([qs, m]) =>
        core.json<{ draft_id: number; score: number; snippet: string; match: SearchHit['match'] }[]>(
          'drafts_search_hybrid', vault, qs!, m!, vp, q!.length, limit)));
    this.searchMs.push(performance.now() - t0);
    if (this.searchMs.length > 256) this.searchMs.shift();
    return hits.map((x) => ({ draftId: x.draft_id, score: x.score, snippet: x.snippet, match: x.match }));
  }

  async suggest(text: string, limit: number): Promise<HashtagSuggestion[]> {
    await this.ensureBank();
    const [v] = await this.embed([text]);
    const core = this.core;
    return this.withFloats(v!, (vp) =>
      core.withStrings([text], ([t]) =>
        core.json<{ hashtag: string; score: number }[]>('hashtags_suggest', this.vocab, t!, vp, v!.length, limit)));
  }

  stats(): { embedMsPerText: number | null; searchMsP50: number | null } {
    const s = [...this.searchMs].sort((a, b) => a - b);
    return {
      embedMsPerText: this.session.latency()?.p50 ?? null,
      searchMsP50: s.length ? s[Math.floor(s.length / 2)]! : null,
    };
  }

  async close(): Promise<void> {
    this.core.fn('word_vocab_close')(this.vocab);
    await this.session.release();
  }

  /** The hashtag bank's vectors: each candidate word embedded once, as a one-word text. */
  private async ensureBank(): Promise<void> {
    if (this.bankReady) return;
    const core = this.core;
    const slot = core.fn('malloc')(8);
    let ids: Int32Array;
    try {
      core.check(core.fn('hashtag_bank_ids')(this.vocab, BANK_WORDS, slot, slot + 4));
      ids = this.takeIds(slot);
    } finally {
      core.fn('free')(slot);
    }
    const rows: Float32Array[] = [];
    for (let i = 0; i < ids.length; i += 1024) {
      const chunk = Array.from(ids.subarray(i, i + 1024), (id) => [id]);
      rows.push(...(await this.session.embed(chunk)));
    }
    const dims = this.dims;
    const all = new Float32Array(ids.length * dims);
    rows.forEach((r, i) => all.set(r, i * dims));
    this.withFloats(all, (p) => core.check(core.fn('hashtag_bank_set_vectors')(this.vocab, p, ids.length, dims)));
    this.bankReady = true;
  }

  private takeIds(slot: number): Int32Array {
    const core = this.core;
    const p = core.m.HEAP32[slot >> 2]!;
    const n = core.m.HEAP32[(slot + 4) >> 2]! >>> 0;
    const ids = core.m.HEAP32.slice(p >> 2, (p >> 2) + n);
    core.fn('free')(p);
    return ids;
  }

  private withFloats<T>(v: Float32Array, body: (ptr: number) => T): T {
    const core = this.core;
    const p = core.fn('malloc')(Math.max(4, v.length * 4));
    if (!p) throw new CairnError('resource_exhausted', 'out of wasm memory');
    try {
      core.m.HEAPF32.set(v, p >> 2);
      return body(p);
    } finally {
      core.fn('free')(p);
    }
  }
}
