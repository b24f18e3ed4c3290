// Small RAII helpers over the SQLite C API, and SQLite result codes as Status.
#ifndef CAIRN_STORAGE_SQLITE_UTIL_H_
#define CAIRN_STORAGE_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

// A Status for SQLite result code `rc` from `what`, with the connection's message.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// Runs one or more statements without results.
Status Exec(sqlite3* db, std::string_view sql);

// Opens (creating) the database at `path` on VFS `vfs` (nullptr: the default) the way the
// server's stores want it: WAL, synchronous=FULL (every commit fsyncs the WAL), a 5 s busy
// timeout, EXCLUSIVE locking if `exclusive`; then runs `schema`. With `deferred_sync`,
// synchronous=NORMAL instead: a commit reaches the OS (it survives the process crashing) but not
// stable storage until the WAL is synced; the caller must make it durable before acknowledging
// it (server/wal_group_sync.h); such a store also checkpoints less often (every 8192 pages).
// Errors name `what` and the path. The caller closes the
// connection (sqlite3_close).
Result<sqlite3*> OpenWalDatabase(const std::string& path, const char* vfs, bool exclusive,
                                 std::string_view schema, std::string_view what,
                                 bool deferred_sync = false);

class StmtCache;

class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept
      : db_(o.db_), stmt_(o.stmt_), in_use_(o.in_use_), bind_error_(std::move(o.bind_error_)) {
    o.stmt_ = nullptr;
    o.in_use_ = nullptr;
  }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Parameters are numbered from 1, as in SQL.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, ByteView v);
  Stmt& BindNull(int i);
  Stmt& Bind(int i, const std::optional<int64_t>& v);

  // true: a row is ready; false: done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();

  int64_t Int(int col) const;
  std::string Text(int col) const;
  Bytes Blob(int col) const;
  bool IsNull(int col) const;
  double Double(int col) const;

 private:
  friend class StmtCache;
  Stmt(sqlite3* db, sqlite3_stmt* s, bool* in_use = nullptr)
      : db_(db), stmt_(s), in_use_(in_use) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // a StmtCache's statement: reset and handed back, not finalized
  Status bind_error_;
};

// The prepared statements of one connection, kept by their SQL text so that a statement run on
// every call (a draft save, a lookup) is compiled once. Get() hands out a Stmt that, when
// destroyed, resets the statement and clears its bindings instead of finalizing it; a statement
// already handed out (a nested use of the same SQL) is prepared afresh for the nested use. Past
// kMaxEntries different texts, further ones are not kept. Clear() (or the destructor) finalizes
// them all: call it before closing the connection, with no Stmt from Get() alive. One thread at
// a time, as the connection. SQLITE_PREPARE_PERSISTENT.
class StmtCache {
 public:
  static constexpr size_t kMaxEntries = 96;
  StmtCache() = default;
  explicit StmtCache(sqlite3* db) : db_(db) {}
  ~StmtCache() { Clear(); }
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;

  // A statement on `db`; a different connection than last time (a vault's rekey switches)
  // finalizes the old connection's statements first.
  Result<Stmt> Get(sqlite3* db, std::string_view sql);
  // A statement on the connection given at construction.
  Result<Stmt> Get(std::string_view sql) { return Get(db_, sql); }
  // Runs one statement without results (BEGIN IMMEDIATE, COMMIT, ...).
  Status Run(std::string_view sql);
  void Clear();
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  // unique_ptr: an Entry's address (in_use) stays put while the map grows.
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  sqlite3* db_ = nullptr;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_SQLITE_UTIL_H_
