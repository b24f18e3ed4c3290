// SqliteDeviceStore: the embedded DeviceStore, its own SQLite file (devices.db beside the job
// store's jobs.db) in WAL mode with synchronous=FULL: a registration, and the nonce of every
// accepted request, survive a crash, a restart or a power loss, so a request captured before a
// restart is still refused as a replay after it. Several connections may share the file;
// writers serialize on SQLite's lock (busy_timeout 5 s, then kUnavailable).
//
//   auto devices = SqliteDeviceStore::Open({.path = "/var/lib/cairn/devices.db"});
//   DeviceAuthenticator auth(**devices, AuthOptions{});
//
// Space: one row per device, and one per accepted request of the last window (pruned as new
// ones are recorded), at most AuthOptions::max_nonces_per_device per device.
// Threading: one connection; use it from one thread at a time.
#ifndef CAIRN_SYNC_SQLITE_DEVICE_STORE_H_
#define CAIRN_SYNC_SQLITE_DEVICE_STORE_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "storage/sqlite_util.h"
#include "sync/device_store.h"

namespace cairn::sync {

struct SqliteDeviceStoreOptions {
  std::string path;
  const char* vfs = nullptr;  // SQLite VFS name; nullptr: the default (POSIX natively)
  bool exclusive = false;     // EXCLUSIVE locking (wasm under Node, tests on a fault VFS)
  // synchronous=NORMAL, for a caller that syncs the WAL before acknowledging (as
  // SqliteJobStoreOptions::deferred_sync).
  bool deferred_sync = false;
};

class SqliteDeviceStore final : public DeviceStore {
 public:
  static Result<std::unique_ptr<SqliteDeviceStore>> Open(const SqliteDeviceStoreOptions& options);
  ~SqliteDeviceStore() override;
  SqliteDeviceStore(const SqliteDeviceStore&) = delete;
  SqliteDeviceStore& operator=(const SqliteDeviceStore&) = delete;

  Result<DeviceInsertOutcome> InsertOrGet(const StoredDevice& device) override;
  Result<std::optional<StoredDevice>> Get(std::string_view id) override;
  Result<NonceOutcome> RecordNonce(std::string_view device_id, std::string_view nonce,
                                   int64_t expires_at_ms, int64_t now_ms,
                                   int64_t max_per_device) override;
  Result<int64_t> CountNonces() override;

 private:
  explicit SqliteDeviceStore(sqlite3* db) : db_(db), cache_(db) {}
  Status Commit();
  void Rollback();

  sqlite3* db_;
  storage::StmtCache cache_;  // every statement, prepared once
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_SQLITE_DEVICE_STORE_H_
