// What cairn-server's PostgreSQL stores (sync/pg_job_store.h, sync/pg_device_store.h) share:
// naming a database without its password, libpq errors as Status, and connecting. Native only.
#ifndef CAIRN_SYNC_PG_UTIL_H_
#define CAIRN_SYNC_PG_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "core/base/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace cairn::sync::pg {

// "user@host:port/database" from a libpq URL: what an operator needs to find the store, without
// the password. Empty when the URL does not parse (the caller says so without echoing it:
// libpq's parse errors may quote any part of it).
std::string DescribeUrl(const std::string& url);

// `name`: `what` failed, with libpq's message: kUnavailable for what a retry may cure (the
// connection is down, serialization failure, deadlock, too many connections, shutting down),
// kIoError for the rest.
Status PgStatus(const std::string& name, const std::string& what, PGconn* conn,
                const PGresult* r);

// Connects to `url` (application_name cairn-server, a 10 s connect timeout unless the URL says
// otherwise). Never null; check PQstatus (PgStatus names the failure).
PGconn* Connect(const std::string& url);

// One statement's result, freed when it goes; cells as text or integers.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Rows& operator=(Rows&&) = delete;
  ~Rows();
  int count() const;
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;

 private:
  PGresult* r_;
};

// Advisory lock key held (per transaction) while a store checks and creates its schema, so that
// servers starting together do not race on CREATE TABLE.
inline constexpr char kSchemaLockKey[] = "7340120011";

}  // namespace cairn::sync::pg

#endif  // CAIRN_SYNC_PG_UTIL_H_
