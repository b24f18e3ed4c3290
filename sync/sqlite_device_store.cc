#include "sync/sqlite_device_store.h"

#include "storage/sqlite_util.h"

namespace cairn::sync {
namespace {

using storage::Exec;
using storage::SqliteStatus;
using storage::Stmt;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  public_key BLOB NOT NULL CHECK (length(public_key) = 32),
  registered_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS request_nonces (
  device_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS request_nonces_expiry ON request_nonces(expires_at);
)sql";

}  // namespace

Result<std::unique_ptr<SqliteDeviceStore>> SqliteDeviceStore::Open(
    const SqliteDeviceStoreOptions& o) {
  CAIRN_ASSIGN_OR_RETURN(sqlite3 * db,
                         storage::OpenWalDatabase(o.path, o.vfs, o.exclusive, kSchema,
                                                  "device store", o.deferred_sync));
  std::unique_ptr<SqliteDeviceStore> store(new SqliteDeviceStore(db));
  return store;
}

SqliteDeviceStore::~SqliteDeviceStore() {
  cache_.Clear();  // statements first: a connection with statements does not close
  sqlite3_close(db_);
}

Status SqliteDeviceStore::Commit() {
  Status s = cache_.Run("COMMIT");
  if (!s.ok()) Rollback();
  return s;
}

void SqliteDeviceStore::Rollback() {
  if (!sqlite3_get_autocommit(db_)) Exec(db_, "ROLLBACK").IgnoreError();
}

Result<DeviceInsertOutcome> SqliteDeviceStore::InsertOrGet(const StoredDevice& device) {
  // INSERT OR IGNORE, then read back: one statement decides, so two registrations racing in
  // different processes both see the one stored.
  CAIRN_ASSIGN_OR_RETURN(
      Stmt ins, cache_.Get("INSERT OR IGNORE INTO devices (id, public_key, registered_at) "
                           "VALUES (?1, ?2, ?3)"));
  ins.Bind(1, device.id).Bind(2, ByteView(device.public_key)).Bind(3, device.registered_at_ms);
  CAIRN_RETURN_IF_ERROR(ins.Run());
  const bool inserted = sqlite3_changes(db_) == 1;
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredDevice> stored, Get(device.id));
  if (!stored) return Internal("device store: device " + device.id + " vanished after insert");
  return DeviceInsertOutcome{std::move(*stored), inserted};
}

Result<std::optional<StoredDevice>> SqliteDeviceStore::Get(std::string_view id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, cache_.Get("SELECT id, public_key, registered_at FROM devices WHERE id=?"));
  q.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<StoredDevice>();
  return std::optional<StoredDevice>(StoredDevice{q.Text(0), q.Blob(1), q.Int(2)});
}

Result<NonceOutcome> SqliteDeviceStore::RecordNonce(std::string_view device_id,
                                                    std::string_view nonce,
                                                    int64_t expires_at_ms, int64_t now_ms,
                                                    int64_t max_per_device) {
  CAIRN_RETURN_IF_ERROR(cache_.Run("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<NonceOutcome> {
    CAIRN_ASSIGN_OR_RETURN(Stmt prune,
                           cache_.Get("DELETE FROM request_nonces WHERE expires_at < ?"));
    prune.Bind(1, now_ms);
    CAIRN_RETURN_IF_ERROR(prune.Run());
    CAIRN_ASSIGN_OR_RETURN(
        Stmt seen,
        cache_.Get("SELECT 1 FROM request_nonces WHERE device_id=? AND nonce=?"));
    seen.Bind(1, device_id).Bind(2, nonce);
    CAIRN_ASSIGN_OR_RETURN(bool replay, seen.Step());
    if (replay) return NonceOutcome::kSeen;
    CAIRN_ASSIGN_OR_RETURN(
        Stmt count, cache_.Get("SELECT COUNT(*) FROM request_nonces WHERE device_id=?"));
    count.Bind(1, device_id);
    CAIRN_ASSIGN_OR_RETURN(bool row, count.Step());
    if (!row) return Internal("device store: no row from COUNT(*)");
    if (count.Int(0) >= max_per_device) return NonceOutcome::kTooMany;
    CAIRN_ASSIGN_OR_RETURN(
        Stmt ins, cache_.Get("INSERT INTO request_nonces (device_id, nonce, expires_at) "
                             "VALUES (?1, ?2, ?3)"));
    ins.Bind(1, device_id).Bind(2, nonce).Bind(3, expires_at_ms);
    CAIRN_RETURN_IF_ERROR(ins.Run());
    return NonceOutcome::kRecorded;
  };
  Result<NonceOutcome> r = body();
  if (!r.ok()) {
    Rollback();
    return r;
  }
  // The prune is worth keeping whatever the outcome, so the transaction always commits.
  CAIRN_RETURN_IF_ERROR(Commit());
  return r;
}

Result<int64_t> SqliteDeviceStore::CountNonces() {
  CAIRN_ASSIGN_OR_RETURN(Stmt q, cache_.Get("SELECT COUNT(*) FROM request_nonces"));
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Internal("device store: no row from COUNT(*)");
  return q.Int(0);
}

}  // namespace cairn::sync
