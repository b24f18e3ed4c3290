#include "sync/pg_device_store.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <utility>

#include "sync/pg_util.h"

namespace cairn::sync {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  public_key TEXT NOT NULL CHECK (public_key ~ '^[0-9a-f]{64}$'),
  registered_at BIGINT NOT NULL
);
CREATE TABLE request_nonces (
  device_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, nonce)
);
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);
INSERT INTO cairn_schema (name, version) VALUES ('devices', 1);
)sql";

// The first key of the per-device advisory lock (the second is hashtext(device id)); the
// two-key form never conflicts with the schema lock's single key.
constexpr char kNonceLockClass[] = "7340121";

}  // namespace

class PgDeviceStore::Rows : public pg::Rows {
 public:
  using pg::Rows::Rows;
};

Result<std::unique_ptr<PgDeviceStore>> PgDeviceStore::Open(const PgDeviceStoreOptions& options) {
  const std::string where = pg::DescribeUrl(options.url);
  if (where.empty()) {
    return InvalidArgument("the device store URL is not a PostgreSQL connection URL");
  }
  PGconn* conn = pg::Connect(options.url);
  std::unique_ptr<PgDeviceStore> store(new PgDeviceStore(conn, "PostgreSQL device store " + where));
  if (conn == nullptr) return ResourceExhausted(store->name_ + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    return pg::PgStatus(store->name_, "connecting", conn, nullptr);
  }
  CAIRN_RETURN_IF_ERROR(store->EnsureSchema());
  return store;
}

PgDeviceStore::~PgDeviceStore() { PQfinish(conn_); }

Status PgDeviceStore::Ready() {
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return pg::PgStatus(name_, "reconnecting", conn_, nullptr);
    }
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return Rollback();
  return Status::Ok();
}

Result<PgDeviceStore::Rows> PgDeviceStore::Run(const std::string& what, const char* sql,
                                               const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = pg::PgStatus(name_, what, conn_, r);
    PQclear(r);
    return s;
  }
  return Rows(r);
}

Status PgDeviceStore::Rollback() {
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return Status::Ok();
  return Run("rolling back", "ROLLBACK", {}).status();
}

Status PgDeviceStore::EnsureSchema() {
  CAIRN_RETURN_IF_ERROR(Ready());
  auto body = [&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Run("beginning a transaction", "BEGIN", {}).status());
    CAIRN_RETURN_IF_ERROR(Run("locking the schema", "SELECT pg_advisory_xact_lock($1)",
                              {pg::kSchemaLockKey})
                              .status());
    CAIRN_RETURN_IF_ERROR(Run("creating cairn_schema",
                              "CREATE TABLE IF NOT EXISTS cairn_schema "
                              "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
                              {})
                              .status());
    CAIRN_ASSIGN_OR_RETURN(Rows v, Run("reading the schema version",
                                       "SELECT version FROM cairn_schema WHERE name = 'devices'",
                                       {}));
    if (v.count() == 0) {
      // Several statements: the simple query protocol (no parameters).
      PGresult* r = PQexec(conn_, kSchemaV1);
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      Status s = ok ? Status::Ok() : pg::PgStatus(name_, "creating the devices schema", conn_, r);
      PQclear(r);
      CAIRN_RETURN_IF_ERROR(s);
    } else if (v.Int(0, 0) > kSchemaVersion) {
      return FailedPrecondition(name_ + ": the devices schema is version " + v.Text(0, 0) +
                                ", newer than this cairn-server knows (" +
                                std::to_string(kSchemaVersion) + "); run a newer cairn-server");
    }
    return Run("committing", "COMMIT", {}).status();
  };
  Status s = body();
  if (!s.ok()) {
    Rollback().IgnoreError();
    return s;
  }
  CAIRN_ASSIGN_OR_RETURN(Rows sync,
                         Run("reading synchronous_commit", "SHOW synchronous_commit", {}));
  if (sync.count() == 1 && sync.Text(0, 0) == "off") {
    CAIRN_RETURN_IF_ERROR(
        Run("setting synchronous_commit", "SET synchronous_commit TO on", {}).status());
  }
  return Status::Ok();
}

Result<DeviceInsertOutcome> PgDeviceStore::InsertOrGet(const StoredDevice& device) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(
      Rows ins, Run("registering device " + device.id,
                    "INSERT INTO devices (id, public_key, registered_at) VALUES ($1, $2, $3) "
                    "ON CONFLICT (id) DO NOTHING RETURNING id",
                    {device.id, ToHex(device.public_key),
                     std::to_string(device.registered_at_ms)}));
  const bool inserted = ins.count() == 1;
  // After a conflict the row is there: ON CONFLICT waited for the other insert to commit.
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredDevice> stored, Get(device.id));
  if (!stored) return Internal(name_ + ": device " + device.id + " vanished after insert");
  return DeviceInsertOutcome{std::move(*stored), inserted};
}

Result<std::optional<StoredDevice>> PgDeviceStore::Get(std::string_view id) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(Rows q, Run("reading device " + std::string(id),
                                     "SELECT id, public_key, registered_at FROM devices "
                                     "WHERE id = $1",
                                     {std::string(id)}));
  if (q.count() == 0) return std::optional<StoredDevice>();
  Result<Bytes> key = FromHex(q.Text(0, 1));
  if (!key.ok()) return Corruption(name_ + ": device " + q.Text(0, 0) + " has a bad public key");
  return std::optional<StoredDevice>(StoredDevice{q.Text(0, 0), std::move(*key), q.Int(0, 2)});
}

Result<NonceOutcome> PgDeviceStore::RecordNonce(std::string_view device_id, std::string_view nonce,
                                                int64_t expires_at_ms, int64_t now_ms,
                                                int64_t max_per_device) {
  CAIRN_RETURN_IF_ERROR(Ready());
  const std::string device(device_id);
  auto body = [&]() -> Result<NonceOutcome> {
    CAIRN_RETURN_IF_ERROR(Run("beginning a transaction", "BEGIN", {}).status());
    CAIRN_RETURN_IF_ERROR(Run("locking device " + device + "'s nonces",
                              "SELECT pg_advisory_xact_lock($1::int4, hashtext($2))",
                              {kNonceLockClass, device})
                              .status());
    CAIRN_RETURN_IF_ERROR(Run("pruning expired nonces",
                              "DELETE FROM request_nonces WHERE expires_at < $1",
                              {std::to_string(now_ms)})
                              .status());
    CAIRN_ASSIGN_OR_RETURN(
        Rows live, Run("counting device " + device + "'s nonces",
                       "SELECT count(*), coalesce(bool_or(nonce = $2), false) "
                       "FROM request_nonces WHERE device_id = $1",
                       {device, std::string(nonce)}));
    if (live.Text(0, 1) == "t") return NonceOutcome::kSeen;
    if (live.Int(0, 0) >= max_per_device) return NonceOutcome::kTooMany;
    CAIRN_ASSIGN_OR_RETURN(
        Rows ins, Run("recording a nonce of device " + device,
                      "INSERT INTO request_nonces (device_id, nonce, expires_at) "
                      "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                      {device, std::string(nonce), std::to_string(expires_at_ms)}));
    return ins.count() == 1 ? NonceOutcome::kRecorded : NonceOutcome::kSeen;
  };
  Result<NonceOutcome> r = body();
  if (!r.ok()) {
    Rollback().IgnoreError();  // the body's error is the one to report
    return r;
  }
  // The prune is worth keeping whatever the outcome, so the transaction always commits.
  Status committed = Run("committing", "COMMIT", {}).status();
  if (!committed.ok()) {
    Rollback().IgnoreError();
    return committed;
  }
  return r;
}

Result<int64_t> PgDeviceStore::CountNonces() {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(Rows q, Run("counting nonces", "SELECT count(*) FROM request_nonces", {}));
  return q.Int(0, 0);
}

}  // namespace cairn::sync
