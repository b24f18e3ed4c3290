#include "sync/pg_util.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace cairn::sync::pg {
namespace {

// SQLSTATEs a retry may cure: connection exceptions (08), serialization failure, deadlock,
// too many connections, insufficient resources (53), lock not available, server shutting down.
bool Retryable(const char* sqlstate) {
  if (sqlstate == nullptr) return false;
  const std::string_view s(sqlstate);
  return s.starts_with("08") || s.starts_with("53") || s == "40001" || s == "40P01" ||
         s == "55P03" || s == "57P01" || s == "57P02" || s == "57P03";
}

std::string Trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m.empty() ? "no message from libpq" : m;
}

}  // namespace

Status PgStatus(const std::string& name, const std::string& what, PGconn* conn, const PGresult* r) {
  const char* sqlstate = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = Trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  if (r != nullptr && message == "no message from libpq") message = Trimmed(PQerrorMessage(conn));
  std::string text = name + ": " + what + " failed: " + message;
  if (PQstatus(conn) != CONNECTION_OK || Retryable(sqlstate)) return Unavailable(std::move(text));
  return IoError(std::move(text));
}

std::string DescribeUrl(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    PQfreemem(err);
    return "";
  }
  std::string user, host, port, db;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "user") == 0) user = o->val;
    if (std::strcmp(o->keyword, "host") == 0) host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) port = o->val;
    if (std::strcmp(o->keyword, "dbname") == 0) db = o->val;
  }
  PQconninfoFree(opts);
  std::string out = user.empty() ? "" : user + "@";
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  return out + "/" + (db.empty() ? "(default database)" : db);
}

PGconn* Connect(const std::string& url) {
  // Defaults first: the URL's own parameters (expanded from dbname) override them.
  const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"cairn-server", "10", url.c_str(), nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

Rows::~Rows() { PQclear(r_); }
int Rows::count() const { return PQntuples(r_); }
std::string Rows::Text(int row, int col) const { return PQgetvalue(r_, row, col); }
int64_t Rows::Int(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}

}  // namespace cairn::sync::pg
