// Vault on OPFS: Cairn's encrypted vault (the wasm core through its C ABI, on the app's OPFS slot
// pool) vs the official SQLite wasm build on its "opfs-sahpool" VFS, unencrypted. The ABI saves
// one draft per transaction and returns JSON, so the peer runs the SQL those calls run
// (storage/vault.cc's schema, storage/vault_records.cc's statements) with the same pragmas, one
// transaction per save, and returns the same draft objects — prepared once, as a careful
// sqlite-wasm user would.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { Core } from '../../pwa/src/worker/core.js';
import { OpfsPool } from '../../pwa/src/worker/opfs_pool.js';
import type { DraftIn, PhaseName, VaultSide } from './workload.js';
import { counts, runInterleaved } from './workload.js';

export interface VaultResult {
  counts: ReturnType<typeof counts>;
  cairn: Record<PhaseName, number>;
  peer: Record<PhaseName, number>;
  peerUncached: Record<PhaseName, number>;
  peerJournalMode: string;
  peerPageSize: number;
  peerCacheSize: number; // PRAGMA cache_size: pages, or KiB when negative
  peerSqliteVersion: string;
  cairnWasmHeapBytes: number;
  cairnIo: IoCounts[]; // per phase, in PHASES order
  peerIo: IoCounts[]; // the same for the (statement-caching) peer
}

export async function vaultSuite(scale: number, dir: string): Promise<VaultResult> {
  const c = counts(scale);
  const meter = new HandleMeter();
  const cairn = await cairnSide(dir);
  const peer = await peerSide(`${dir}-sahpool`, true);
  const uncached = await peerSide(`${dir}-sahpool-uncached`, false);
  // The three take turns slice by slice (workload.ts runInterleaved); the OPFS calls of each
  // slice are added to its side's phase. The vault exists before the counts start (its
  // creation is not a phase); the core worker tops the slot pool up between requests, here
  // between phases, outside the counts.
  const io = [HandleMeter.zero(), HandleMeter.zero()];
  const cairnIo: IoCounts[] = [];
  const peerIo: IoCounts[] = [];
  meter.reset();
  const [cairnOps, peerOps, uncachedOps] = await runInterleaved(
    [cairn.side, peer.side, uncached.side], c,
    (k) => {
      const t = meter.take();
      if (k < 2) addIo(io[k]!, t);
    },
    async () => {
      cairnIo.push(io[0]!);
      peerIo.push(io[1]!);
      io[0] = HandleMeter.zero();
      io[1] = HandleMeter.zero();
      await cairn.pool.topUp();
      meter.reset();
    });
  const heap = cairn.core.m.HEAPU8.buffer.byteLength;
  cairn.close();
  peer.close();
  uncached.close();
  meter.stop();
  return {
    counts: c, cairn: cairnOps!, peer: peerOps!, peerUncached: uncachedOps!,
    peerJournalMode: peer.journal, peerPageSize: peer.pageSize, peerCacheSize: peer.cacheSize,
    peerSqliteVersion: peer.version, cairnWasmHeapBytes: heap, cairnIo, peerIo,
  };
}

function addIo(to: IoCounts, from: IoCounts): void {
  for (const key of Object.keys(to) as (keyof IoCounts)[]) to[key] += from[key];
}

/** The OPFS work behind a phase: calls on FileSystemSyncAccessHandles, and the time spent in
 * them (ms, by performance.now(), coarsened to 5 µs in an isolated worker but unbiased over
 * many calls). Cairn's slot pool and sqlite-wasm's opfs-sahpool both end in these calls. */
export interface IoCounts {
  writes: number;
  bytesWritten: number;
  reads: number;
  flushes: number;
  sizes: number;
  truncates: number;
  ms: number; // in every call
  writeMs: number;
  flushMs: number;
}

/** Counts and times every FileSystemSyncAccessHandle call in this worker (both vaults' VFSs
 * reach OPFS only through them) by wrapping the prototype's methods until stop(). */
class HandleMeter {
  private io: IoCounts = HandleMeter.zero();
  private readonly restore: (() => void)[] = [];

  constructor() {
    const proto = FileSystemSyncAccessHandle.prototype as unknown as Record<string, unknown>;
    const wrap = (name: string, count: (io: IoCounts, args: unknown[], ms: number) => void) => {
      const real = proto[name] as (...a: unknown[]) => unknown;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const t0 = performance.now();
        try {
          return real.apply(this, args);
        } finally {
          const ms = performance.now() - t0;
          meter.io.ms += ms;
          count(meter.io, args, ms);
        }
      };
      this.restore.push(() => (proto[name] = real));
    };
    const meter = this;
    wrap('write', (io, a, ms) => {
      io.writes++;
      io.bytesWritten += (a[0] as ArrayBufferView).byteLength;
      io.writeMs += ms;
    });
    wrap('read', (io) => io.reads++);
    wrap('flush', (io, _a, ms) => {
      io.flushes++;
      io.flushMs += ms;
    });
    wrap('getSize', (io) => io.sizes++);
    wrap('truncate', (io) => io.truncates++);
  }

  static zero(): IoCounts {
    return {
      writes: 0, bytesWritten: 0, reads: 0, flushes: 0, sizes: 0, truncates: 0, ms: 0, writeMs: 0,
      flushMs: 0,
    };
  }

  reset(): void {
    this.io = HandleMeter.zero();
  }

  take(): IoCounts {
    const out = this.io;
    this.reset();
    return out;
  }

  stop(): void {
    for (const r of this.restore) r();
  }
}

async function cairnSide(dir: string) {
  const pool = await OpfsPool.open(dir);
  pool.wipe();
  const core = await Core.load(pool);
  const vault = core.withStrings(['/vault', 'bench passphrase'], ([d, p]) => core.out('vault_create', d!, p!));
  const side: VaultSide = {
    // Draft ids are small: they pass as the i64's low half, as the core worker passes them.
    save: (id: number, d: DraftIn) =>
      core.withStrings([JSON.stringify(d)], ([b]) => core.json<{ id: number }>('draft_save', vault, id, 0, b!)),
    get: (id: number) => core.json('draft_get', vault, id, 0),
    list: (limit: number, offset: number) => core.json<unknown[]>('drafts_list', vault, limit, offset),
    search: (q: string, limit: number) =>
      core.withStrings([q], ([s]) => core.json<unknown[]>('drafts_search', vault, s!, limit)),
  };
  await pool.topUp();
  return {
    core,
    pool,
    side,
    close: () => {
      core.fn('vault_close')(vault);
      pool.wipe();
    },
  };
}

// storage/vault.cc's migrations 1 and 2 (the tables and FTS the draft calls touch).
const SCHEMA = `
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE drafts (
  id INTEGER PRIMARY KEY, caption TEXT NOT NULL, hashtags TEXT NOT NULL,
  task TEXT NOT NULL, context TEXT NOT NULL, style TEXT NOT NULL, output_format TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'ready', 'posted')),
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE INDEX drafts_by_update ON drafts(updated_at DESC);
CREATE TABLE draft_versions (
  draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE, version INTEGER NOT NULL,
  caption TEXT NOT NULL, hashtags TEXT NOT NULL, task TEXT NOT NULL, context TEXT NOT NULL,
  style TEXT NOT NULL, output_format TEXT NOT NULL, status TEXT NOT NULL, saved_at INTEGER NOT NULL,
  PRIMARY KEY (draft_id, version)) STRICT;
CREATE VIRTUAL TABLE drafts_fts USING fts5(caption, hashtags, context, content='drafts',
  content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER drafts_fts_insert AFTER INSERT ON drafts BEGIN
  INSERT INTO drafts_fts(rowid, caption, hashtags, context) VALUES (new.id, new.caption, new.hashtags, new.context);
END;
CREATE TRIGGER drafts_fts_delete AFTER DELETE ON drafts BEGIN
  INSERT INTO drafts_fts(drafts_fts, rowid, caption, hashtags, context)
  VALUES ('delete', old.id, old.caption, old.hashtags, old.context);
END;
CREATE TRIGGER drafts_fts_update AFTER UPDATE ON drafts BEGIN
  INSERT INTO drafts_fts(drafts_fts, rowid, caption, hashtags, context)
  VALUES ('delete', old.id, old.caption, old.hashtags, old.context);
  INSERT INTO drafts_fts(rowid, caption, hashtags, context) VALUES (new.id, new.caption, new.hashtags, new.context);
END;`;
const COLUMNS =
  'id, caption, hashtags, task, context, style, output_format, status, version, created_at, updated_at';

/** The vault's query syntax (storage/vault_records.cc FtsQuery): words quoted, the last a prefix. */
function ftsQuery(text: string): string {
  const words = text.split(/[^A-Za-z0-9\u0080-\u{10FFFF}]+/u).filter(Boolean);
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

async function peerSide(dir: string, cache: boolean) {
  const sqlite3 = await sqlite3InitModule({ print: () => undefined, printErr: console.error });
  const util = await sqlite3.installOpfsSAHPoolVfs({ name: dir, directory: `/${dir}`, clearOnInit: true });
  const db = new util.OpfsSAHPoolDb('/drafts.db');
  // The vault's pragmas; WAL needs EXCLUSIVE locking here (no shared memory), as in the vault.
  db.exec('PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE;');
  const journal = String(db.selectValue('PRAGMA journal_mode=WAL'));
  db.exec('PRAGMA synchronous=FULL;');
  db.exec(SCHEMA);
  // Cached: each statement prepared once (the best a sqlite-wasm user can do). Not cached:
  // prepared and finalized on every call, as storage/vault_records.cc does — the diagnostic row
  // that shows how much of the gap is statement preparation.
  const sql = {
    insert:
      'INSERT INTO drafts (caption, hashtags, task, context, style, output_format, status, version, ' +
      'created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)',
    keep:
      'INSERT INTO draft_versions SELECT id, version, caption, hashtags, task, context, style, ' +
      'output_format, status, updated_at FROM drafts WHERE id=?',
    update:
      'UPDATE drafts SET caption=?1, hashtags=?2, task=?3, context=?4, style=?5, output_format=?6, ' +
      'status=?7, version=version+1, updated_at=?8 WHERE id=?9',
    byId: `SELECT ${COLUMNS} FROM drafts WHERE id=?`,
    recent: `SELECT ${COLUMNS} FROM drafts ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`,
    search:
      "SELECT rowid, bm25(drafts_fts, 10.0, 5.0, 1.0), snippet(drafts_fts, 0, '[', ']', '...', 10) " +
      'FROM drafts_fts WHERE drafts_fts MATCH ? ORDER BY bm25(drafts_fts, 10.0, 5.0, 1.0) LIMIT ?',
  };
  type Stmt = ReturnType<typeof db.prepare>;
  const cached = new Map<string, Stmt>();
  const use = <T>(text: string, body: (s: Stmt) => T): T => {
    let st = cached.get(text);
    if (!st) {
      st = db.prepare(text);
      if (cache) cached.set(text, st);
    }
    try {
      return body(st);
    } finally {
      if (cache) st.reset(true);
      else st.finalize();
    }
  };
  // The draft object the ABI returns (api/api_vault.cc DraftJson): hashtags parsed, prompt nested.
  const toDraft = (r: unknown[]) => ({
    id: r[0] as number, caption: r[1], hashtags: JSON.parse(r[2] as string) as string[],
    prompt: { task: r[3], context: r[4], style: r[5], output_format: r[6] },
    status: r[7], version: r[8], created_at_ms: r[9], updated_at_ms: r[10],
  });
  const get = (id: number) =>
    use(sql.byId, (st) => (st.bind([id]).step() ? toDraft(st.get([])) : null));
  const content = (d: DraftIn) => [
    d.caption, JSON.stringify(d.hashtags), d.prompt.task, d.prompt.context, d.prompt.style,
    d.prompt.output_format, d.status, Date.now(),
  ];
  const side: VaultSide = {
    save(id: number, d: DraftIn) {
      db.exec('BEGIN IMMEDIATE');
      try {
        if (id === 0) {
          use(sql.insert, (st) => st.bind(content(d)).step());
          id = Number(sqlite3.capi.sqlite3_last_insert_rowid(db));
        } else {
          use(sql.keep, (st) => st.bind([id]).step());
          if (db.changes() === 0) throw new Error(`no draft with id ${id}`);
          use(sql.update, (st) => st.bind([...content(d), id]).step());
        }
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      return get(id)!;
    },
    get,
    list(limit: number, offset: number) {
      return use(sql.recent, (st) => {
        const out = [];
        st.bind([limit, offset]);
        while (st.step()) out.push(toDraft(st.get([])));
        return out;
      });
    },
    search(q: string, limit: number) {
      const fts = ftsQuery(q);
      if (!fts) return [];
      return use(sql.search, (st) => {
        const out = [];
        st.bind([fts, limit]);
        while (st.step()) {
          const r = st.get([]);
          out.push({ draft_id: r[0], score: -(r[1] as number), snippet: r[2] });
        }
        return out;
      });
    },
  };
  return {
    side,
    journal,
    pageSize: Number(db.selectValue('PRAGMA page_size')),
    cacheSize: Number(db.selectValue('PRAGMA cache_size')),
    version: sqlite3.version.libVersion,
    close: () => {
      for (const st of cached.values()) st.finalize();
      db.close();
      void util.removeVfs();
    },
  };
}
