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

/** How many slices each phase is cut into: the sides take turns slice by slice. */
export const SLICES = 20;

/**
 * Runs every phase on every side, interleaved: each phase is cut into SLICES slices and the
 * sides take turns, slice by slice (the order rotating each slice), so load from other work on
 * the machine falls on all sides alike instead of on whichever ran during it. Each side keeps its
 * own generator, so all see the same drafts, ids and queries in the same order. `slice(k)` is
 * called after every slice of side k (to attribute counters); `between()` after each phase.
 * Returns ops/s per phase for each side.
 */
export async function runInterleaved(
  sides: VaultSide[], c: VaultCounts, slice: (k: number) => void, between: () => Promise<void>,
): Promise<Record<PhaseName, number>[]> {
  const st = sides.map(() => ({ rng: new Rng(42), ids: [] as number[], sink: 0 }));
  const out = sides.map(() => ({}) as Record<PhaseName, number>);
  const time = async (name: PhaseName, n: number, body: (k: number, i: number) => void) => {
    const ms = sides.map(() => 0);
    for (let s = 0; s < SLICES; s++) {
      const [from, to] = [Math.floor((s * n) / SLICES), Math.floor(((s + 1) * n) / SLICES)];
      for (let j = 0; j < sides.length; j++) {
        const k = (j + s) % sides.length;
        const t0 = performance.now();
        for (let i = from; i < to; i++) body(k, i);
        ms[k]! += performance.now() - t0;
        slice(k);
      }
    }
    for (const [k, m] of ms.entries()) out[k]![name] = n / (m / 1000);
    await between();
  };
  const side = (k: number) => ({ s: sides[k]!, x: st[k]! });
  await time('insert_draft_txn', c.drafts, (k) => {
    const { s, x } = side(k);
    x.ids.push(s.save(0, x.rng.draft()).id);
  });
  await time('get_draft_by_id', c.reads, (k) => {
    const { s, x } = side(k);
    x.sink += s.get(x.ids[x.rng.below(x.ids.length)]!) ? 1 : 0;
  });
  await time('list_recent_20', c.lists, (k, i) => {
    const { s, x } = side(k);
    x.sink += s.list(20, (i % 5) * 20).length;
  });
  await time('fts_search_top20', c.queries, (k) => {
    const { s, x } = side(k);
    x.sink += s.search(x.rng.query(), 20).length;
  });
  await time('update_draft_txn', c.updates, (k) => {
    const { s, x } = side(k);
    s.save(x.ids[x.rng.below(x.ids.length)]!, x.rng.draft());
  });
  if (st.some((x) => x.sink === 0)) throw new Error('the workload read nothing');
  return out;
}
