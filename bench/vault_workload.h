// The vault benchmark's workload, over the plain SQLite C API, so the same code runs against
// Cairn's SQLite (plain or through the cipher VFS) and against SQLCipher, which exports the same
// symbols and so lives in its own executable (vault_bench_sqlcipher).
//
// Drafts-like rows (caption, hashtags, context) with an FTS5 index kept by triggers, 4096-byte
// pages, WAL, synchronous=NORMAL (so the comparison measures the storage and crypto work, not
// fsync latency), a 2 MiB page cache (smaller than the data, so reads reach the VFS).
#ifndef CAIRN_BENCH_VAULT_WORKLOAD_H_
#define CAIRN_BENCH_VAULT_WORKLOAD_H_

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace cairn::bench {

inline double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "vault bench: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

inline void Exec(sqlite3* db, const std::string& sql) {
  Check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), sql.c_str());
}

inline const std::vector<std::string>& Words() {
  static const std::vector<std::string> words = {
      "sunset", "pier", "coffee", "morning", "city", "lights", "ocean", "mountain", "trail",
      "golden", "hour", "street", "market", "bloom", "garden", "rain", "window", "studio",
      "portrait", "vintage", "neon", "forest", "river", "bridge", "harbor", "snow", "desert",
      "festival", "kitchen", "recipe", "launch", "drop", "collection", "behind", "scenes",
      "weekend", "travel", "journal", "friends", "family", "sketch", "canvas", "lantern",
      "autumn", "spring", "summer", "winter", "rooftop", "skyline", "tide"};
  return words;
}

inline std::string Phrase(std::mt19937& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += Words()[rng() % Words().size()];
  }
  return s;
}

struct Result {
  const char* name;
  double ops_per_second;
};

// Runs the workload on an open, empty database; prints one JSON line per phase for `variant`.
inline void RunWorkload(sqlite3* db, const char* variant) {
  Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-2048;");
  Exec(db,
       "CREATE TABLE drafts (id INTEGER PRIMARY KEY, caption TEXT, hashtags TEXT, context TEXT);"
       "CREATE VIRTUAL TABLE drafts_fts USING fts5(caption, hashtags, context, content='drafts',"
       " content_rowid='id');"
       "CREATE TRIGGER ai AFTER INSERT ON drafts BEGIN INSERT INTO drafts_fts(rowid, caption, "
       "hashtags, context) VALUES (new.id, new.caption, new.hashtags, new.context); END;"
       "CREATE TRIGGER au AFTER UPDATE ON drafts BEGIN INSERT INTO drafts_fts(drafts_fts, rowid, "
       "caption, hashtags, context) VALUES ('delete', old.id, old.caption, old.hashtags, "
       "old.context); INSERT INTO drafts_fts(rowid, caption, hashtags, context) VALUES (new.id, "
       "new.caption, new.hashtags, new.context); END;");
  std::mt19937 rng(42);
  constexpr int kDrafts = 10000, kPerTxn = 100, kReads = 20000, kQueries = 1000, kUpdates = 5000;
  std::vector<Result> results;

  sqlite3_stmt* ins = nullptr;
  Check(db, sqlite3_prepare_v2(db, "INSERT INTO drafts (caption, hashtags, context) VALUES (?,?,?)",
                               -1, &ins, nullptr), "prepare insert");
  double t0 = Seconds();
  for (int i = 0; i < kDrafts; ++i) {
    if (i % kPerTxn == 0) Exec(db, "BEGIN");
    std::string caption = Phrase(rng, 18), tags = "#" + Phrase(rng, 1) + " #" + Phrase(rng, 1),
                context = "photo: " + Phrase(rng, 10);
    sqlite3_bind_text(ins, 1, caption.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, tags.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, context.c_str(), -1, SQLITE_TRANSIENT);
    Check(db, sqlite3_step(ins), "insert");
    sqlite3_reset(ins);
    if (i % kPerTxn == kPerTxn - 1) Exec(db, "COMMIT");
  }
  results.push_back({"insert_drafts_100_per_txn", kDrafts / (Seconds() - t0)});
  sqlite3_finalize(ins);

  sqlite3_stmt* get = nullptr;
  Check(db, sqlite3_prepare_v2(db, "SELECT caption, hashtags FROM drafts WHERE id=?", -1, &get,
                               nullptr), "prepare read");
  t0 = Seconds();
  size_t bytes = 0;
  for (int i = 0; i < kReads; ++i) {
    sqlite3_bind_int64(get, 1, 1 + static_cast<int64_t>(rng() % kDrafts));
    Check(db, sqlite3_step(get), "read");
    bytes += static_cast<size_t>(sqlite3_column_bytes(get, 0));
    sqlite3_reset(get);
  }
  results.push_back({"point_reads", kReads / (Seconds() - t0)});
  sqlite3_finalize(get);

  sqlite3_stmt* fts = nullptr;
  Check(db, sqlite3_prepare_v2(db,
                               "SELECT rowid FROM drafts_fts WHERE drafts_fts MATCH ? "
                               "ORDER BY bm25(drafts_fts) LIMIT 20",
                               -1, &fts, nullptr), "prepare fts");
  t0 = Seconds();
  for (int i = 0; i < kQueries; ++i) {
    std::string q = Words()[rng() % Words().size()] + " " + Words()[rng() % Words().size()];
    sqlite3_bind_text(fts, 1, q.c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(fts)) == SQLITE_ROW) bytes += 1;
    Check(db, rc, "fts");
    sqlite3_reset(fts);
  }
  results.push_back({"fts_queries_top20", kQueries / (Seconds() - t0)});
  sqlite3_finalize(fts);

  sqlite3_stmt* upd = nullptr;
  Check(db, sqlite3_prepare_v2(db, "UPDATE drafts SET caption=? WHERE id=?", -1, &upd, nullptr),
        "prepare update");
  t0 = Seconds();
  for (int i = 0; i < kUpdates; ++i) {
    if (i % kPerTxn == 0) Exec(db, "BEGIN");
    std::string caption = Phrase(rng, 18);
    sqlite3_bind_text(upd, 1, caption.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(upd, 2, 1 + static_cast<int64_t>(rng() % kDrafts));
    Check(db, sqlite3_step(upd), "update");
    sqlite3_reset(upd);
    if (i % kPerTxn == kPerTxn - 1) Exec(db, "COMMIT");
  }
  results.push_back({"update_drafts_100_per_txn", kUpdates / (Seconds() - t0)});
  sqlite3_finalize(upd);

  for (const Result& r : results) {
    std::printf("{\"bench\":\"vault\",\"variant\":\"%s\",\"name\":\"%s\",\"unit\":\"ops/s\","
                "\"value\":%.1f}\n", variant, r.name, r.ops_per_second);
  }
  if (bytes == 0) std::printf("{\"note\":\"no data read\"}\n");
}

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_VAULT_WORKLOAD_H_
