// PgDeviceStore: the DeviceStore on PostgreSQL (libpq), in the same database as the jobs
// (sync/pg_job_store.h), so every cairn-server sharing that database knows every registered
// device and every accepted nonce: a device registers once, with any server, and a signed
// request accepted by one server is refused as a replay by all the others. Native only.
//
//   auto devices = PgDeviceStore::Open({.url = "postgresql://cairn@db.internal/cairn"});
//   DeviceAuthenticator auth(**devices, AuthOptions{});
//
// Contract (sync/device_store.h) and how it is kept:
//   - InsertOrGet: INSERT ... ON CONFLICT (id) DO NOTHING, then the stored row.
//   - RecordNonce: one transaction that takes a per-device advisory lock (so two servers
//     recording the same device's nonces at once take turns, and the per-device cap holds),
//     prunes every expired nonce, counts the device's live ones and inserts (device, nonce);
//     the primary key refuses a nonce twice whatever the lock.
//   - Durable on return: the commit has returned (synchronous_commit raised to `on` if the
//     server's default is `off`).
// Errors: as PgJobStore's (kUnavailable for what a retry may cure, kIoError otherwise), naming
// the store as user@host:port/database, never the password; a lost connection is reopened by
// the next call.
// Schema: created if missing, versioned in cairn_schema ('devices', 1); a newer one is refused.
// Threading: one connection; use it from one thread at a time.
#ifndef CAIRN_SYNC_PG_DEVICE_STORE_H_
#define CAIRN_SYNC_PG_DEVICE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "sync/device_store.h"

typedef struct pg_conn PGconn;

namespace cairn::sync {

struct PgDeviceStoreOptions {
  std::string url;  // a libpq connection URL, as PgJobStoreOptions::url
};

class PgDeviceStore final : public DeviceStore {
 public:
  static constexpr int kSchemaVersion = 1;

  static Result<std::unique_ptr<PgDeviceStore>> Open(const PgDeviceStoreOptions& options);
  ~PgDeviceStore() override;
  PgDeviceStore(const PgDeviceStore&) = delete;
  PgDeviceStore& operator=(const PgDeviceStore&) = delete;

  const std::string& name() const { return name_; }

  Result<DeviceInsertOutcome> InsertOrGet(const StoredDevice& device) override;
  Result<std::optional<StoredDevice>> Get(std::string_view id) override;
  Result<NonceOutcome> RecordNonce(std::string_view device_id, std::string_view nonce,
                                   int64_t expires_at_ms, int64_t now_ms,
                                   int64_t max_per_device) override;
  Result<int64_t> CountNonces() override;

 private:
  class Rows;
  PgDeviceStore(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  Status Ready();
  Result<Rows> Run(const std::string& what, const char* sql,
                   const std::vector<std::string>& params);
  Status Rollback();
  Status EnsureSchema();

  PGconn* conn_;
  std::string name_;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_PG_DEVICE_STORE_H_
