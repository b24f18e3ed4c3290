// Small RAII helpers over the SQLite C API, and SQLite result codes as Status.
#ifndef CAIRN_STORAGE_SQLITE_UTIL_H_
#define CAIRN_STORAGE_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

// A Status for SQLite result code `rc` from `what`, with the connection's message.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// Runs one or more statements without results.
Status Exec(sqlite3* db, std::string_view sql);

// Opens (creating) the database at `path` on VFS `vfs` (nullptr: the default) the way the
// server's stores want it: WAL, synchronous=FULL, a 5 s busy timeout, EXCLUSIVE locking if
// `exclusive`; then runs `schema`. Errors name `what` and the path. The caller closes the
// connection (sqlite3_close).
Result<sqlite3*> OpenWalDatabase(const std::string& path, const char* vfs, bool exclusive,
                                 std::string_view schema, std::string_view what);

class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_), bind_error_(std::move(o.bind_error_)) {
    o.stmt_ = nullptr;
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
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_SQLITE_UTIL_H_
