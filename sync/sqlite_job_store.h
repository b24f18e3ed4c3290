// SqliteJobStore: the embedded JobStore, one plain (unencrypted: server data is not the
// creator's vault) SQLite file in WAL mode with synchronous=FULL, so an accepted job survives
// a crash or power loss. Several connections (server threads, worker processes) may share the
// file; writers serialize on SQLite's lock (busy_timeout 5 s, then kUnavailable).
//
//   auto store = SqliteJobStore::Open({.path = "/var/lib/cairn/jobs.db"});
//   if (!store.ok()) return store.status();
//   JobService service(**store, ServiceOptions{});
//
// Threading: one connection; use it from one thread at a time (open one store per thread).
#ifndef CAIRN_SYNC_SQLITE_JOB_STORE_H_
#define CAIRN_SYNC_SQLITE_JOB_STORE_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "storage/sqlite_util.h"
#include "sync/job_store.h"

namespace cairn::sync {

struct SqliteJobStoreOptions {
  std::string path;
  const char* vfs = nullptr;  // SQLite VFS name; nullptr: the default (POSIX natively)
  // EXCLUSIVE locking: one connection, WAL without a shared-memory file (the wasm build under
  // Node, and tests on storage/fault_vfs.h).
  bool exclusive = false;
  // synchronous=NORMAL: a commit is in the OS, not yet on stable storage, when a call returns.
  // Only for a caller that syncs the WAL before it acknowledges anything it wrote or read
  // (cairn-server: server/wal_group_sync.h, one fdatasync for many requests).
  bool deferred_sync = false;
};

class SqliteJobStore final : public JobStore {
 public:
  static Result<std::unique_ptr<SqliteJobStore>> Open(const SqliteJobStoreOptions& options);
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  Result<InsertOutcome> InsertOrGet(const StoredJob& job) override;
  Result<std::optional<StoredJob>> Get(std::string_view id) override;
  Result<std::vector<StoredJob>> ChangesSince(std::string_view device_id, int64_t since,
                                              int limit) override;
  Result<FeedChanges> FeedSince(std::string_view device_id, int64_t since, int limit) override;
  Result<std::optional<ExpiredJob>> GetExpired(std::string_view id) override;
  Result<std::vector<ExpiredJob>> ExpireFinished(int64_t changed_before_ms, int64_t now_ms,
                                                 int limit) override;
  Result<std::vector<StoredJob>> Claimable(int64_t now_ms, int limit) override;
  Result<std::optional<StoredJob>> CompareAndSwap(const StoredJob& job) override;

 private:
  explicit SqliteJobStore(sqlite3* db) : db_(db), cache_(db) {}
  Result<int64_t> NextSeq();
  Status Commit();
  void Rollback();

  sqlite3* db_;
  storage::StmtCache cache_;  // every statement, prepared once
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_SQLITE_JOB_STORE_H_
