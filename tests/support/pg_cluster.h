// A throwaway PostgreSQL for a test process: tests/support/pg_cluster.sh (shared with the shell
// tests) started on first use and stopped when the process exits. Native only (libpq).
//
//   std::string why;
//   PgCluster* pg = PgCluster::Shared(&why);
//   if (pg == nullptr) SKIP(why);                 // no PostgreSQL binaries on this machine
//   std::string url = pg->NewDatabase();          // an empty database of its own per test
//
// Failing to start when the binaries are there is a test failure (abort with the log), never
// a skip: a broken PostgreSQL must not turn into a green run.
#ifndef CAIRN_TESTS_SUPPORT_PG_CLUSTER_H_
#define CAIRN_TESTS_SUPPORT_PG_CLUSTER_H_

#include <libpq-fe.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef CAIRN_PG_CLUSTER_SCRIPT
#error "define CAIRN_PG_CLUSTER_SCRIPT as the path of tests/support/pg_cluster.sh"
#endif

namespace cairn::testing {

class PgCluster {
 public:
  static PgCluster* Shared(std::string* why) {
    static PgCluster cluster;
    if (!cluster.skip_reason_.empty()) {
      *why = cluster.skip_reason_;
      return nullptr;
    }
    return &cluster;
  }

  ~PgCluster() {
    if (dir_.empty()) return;
    const std::string stop =
        std::string("bash '") + CAIRN_PG_CLUSTER_SCRIPT + "' stop '" + dir_ + "'";
    if (std::system(stop.c_str()) != 0) {
      std::fprintf(stderr, "pg_cluster: stopping %s failed\n", dir_.c_str());
    }
  }

  const std::string& dir() const { return dir_; }
  const std::string& url() const { return url_; }  // the database `cairn`
  std::string UrlOf(const std::string& database) const {
    return "postgresql://cairn@/" + database + "?host=" + dir_;
  }

  // Creates an empty database and returns its URL.
  std::string NewDatabase() {
    static std::atomic<int> next{0};
    const std::string name = "t" + std::to_string(next.fetch_add(1));
    Sql("CREATE DATABASE " + name + " STRATEGY file_copy");
    return UrlOf(name);
  }

  // Runs one statement on the database `cairn` (or `url`); aborts the test if it fails.
  void Sql(const std::string& sql, const std::string& url = "") const {
    PGconn* c = PQconnectdb((url.empty() ? url_ : url).c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) std::fprintf(stderr, "pg_cluster: %s: %s\n", sql.c_str(), PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    if (!ok) std::abort();
  }

 private:
  PgCluster() {
    const std::string start = std::string("bash '") + CAIRN_PG_CLUSTER_SCRIPT + "' start";
    FILE* p = popen(start.c_str(), "r");
    if (p == nullptr) std::abort();
    char line[512] = {};
    const bool got = std::fgets(line, sizeof(line), p) != nullptr;
    const int status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      skip_reason_ = "PostgreSQL tests skipped: no PostgreSQL server binaries here "
                     "(install Debian's postgresql package)";
      return;
    }
    std::string out = got ? line : "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    const size_t space = out.find(' ');
    if (status != 0 || space == std::string::npos) {
      std::fprintf(stderr, "pg_cluster: could not start PostgreSQL (status %d)\n", status);
      std::abort();
    }
    dir_ = out.substr(0, space);
    url_ = out.substr(space + 1);
  }

  std::string dir_;
  std::string url_;
  std::string skip_reason_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_PG_CLUSTER_H_
