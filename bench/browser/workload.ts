// The drafts workload both vaults run (speedtest1-style phases over the same rows): seeded, so
// Cairn and the peer see identical drafts, ids and queries in the same order.

const WORDS = [
  'sunset', 'pier', 'coffee', 'morning', 'city', 'lights', 'ocean', 'mountain', 'trail', 'golden',
  'hour', 'street', 'market', 'bloom', 'garden', 'rain', 'window', 'studio', 'portrait', 'vintage',
  'neon', 'forest', 'river', 'bridge', 'harbor', 'snow', 'desert', 'festival', 'kitchen', 'recipe',
  'launch', 'drop', 'collection', 'behind', 'scenes', 'weekend', 'travel', 'journal', 'friends',
  'family', 'sketch', 'canvas', 'lantern', 'autumn', 'spring', 'summer', 'winter', 'rooftop',
  'skyline', 'tide',
];

/** The counts of each phase; `scale` 1 is the reported run, the smoke test uses a tiny one. */
export interface VaultCounts {
  drafts: number;
  reads: number;
  lists: number;
  queries: number;
  updates: number;
}

export function counts(scale: number): VaultCounts {
  const n = (x: number) => Math.max(2, Math.round(x * scale));
  return { drafts: n(2000), reads: n(5000), lists: n(500), queries: n(300), updates: n(1000) };
}

/** The draft as the app saves it (api/cairn_api.h: cairn_draft_save's JSON). */
export interface DraftIn {
  caption: string;
  hashtags: string[];
  status: 'draft';
  prompt: { task: string; context: string; style: string; output_format: string };
}

/** A small seeded generator (mulberry32): the same sequence on both sides. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  word(): string {
    return WORDS[this.below(WORDS.length)]!;
  }
  phrase(n: number): string {
    return Array.from({ length: n }, () => this.word()).join(' ');
  }
  draft(): DraftIn {
    return {
      caption: this.phrase(18),
      hashtags: [`#${this.word()}`, `#${this.word()}`],
      status: 'draft',
      prompt: {
        task: 'Write an Instagram caption', context: `photo: ${this.phrase(10)}`,
        style: 'warm, short', output_format: 'one caption',
      },
    };
  }
  query(): string {
    return `${this.word()} ${this.word()}`;
  }
}

/** The phases, in order, with what each call does on both sides. */
export const PHASES = [
  ['insert_draft_txn', 'save a new draft, one transaction each (as the app does), read it back'],
  ['get_draft_by_id', 'point read by primary key'],
  ['list_recent_20', 'the 20 most recently updated, through the updated_at index'],
  ['fts_search_top20', 'FTS5 MATCH, bm25-ranked with a snippet, top 20'],
  ['update_draft_txn', 'new version: history row + update (FTS triggers), one transaction each'],
] as const;
export type PhaseName = (typeof PHASES)[number][0];

/** One side of the comparison: each call does what the app's request of that name does. */
export interface VaultSide {
  save(id: number, d: DraftIn): { id: number };
  get(id: number): unknown;
  list(limit: number, offset: number): unknown[];
  search(query: string, limit: number): unknown[];
}

/** Runs every phase on `side`; returns ops/s per phase. */
export function runPhases(side: VaultSide, c: VaultCounts, between: () => Promise<void>): Promise<Record<PhaseName, number>> {
  return (async () => {
    const rng = new Rng(42);
    const out = {} as Record<PhaseName, number>;
    const time = async (name: PhaseName, n: number, body: (i: number) => void) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) body(i);
      out[name] = n / ((performance.now() - t0) / 1000);
      await between();
    };
    const ids: number[] = [];
    let sink = 0;
    await time('insert_draft_txn', c.drafts, () => ids.push(side.save(0, rng.draft()).id));
    await time('get_draft_by_id', c.reads, () => {
      sink += side.get(ids[rng.below(ids.length)]!) ? 1 : 0;
    });
    await time('list_recent_20', c.lists, (i) => {
      sink += side.list(20, (i % 5) * 20).length;
    });
    await time('fts_search_top20', c.queries, () => {
      sink += side.search(rng.query(), 20).length;
    });
    await time('update_draft_txn', c.updates, () => {
      side.save(ids[rng.below(ids.length)]!, rng.draft());
    });
    if (sink === 0) throw new Error('the workload read nothing');
    return out;
  })();
}
