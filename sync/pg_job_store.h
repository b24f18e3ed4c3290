// PgJobStore: the JobStore on PostgreSQL (libpq), so several cairn-server instances and their
// render workers share one queue. Native only (the wasm build never sees libpq).
//
//   auto store = PgJobStore::Open({.url = "postgresql://cairn@db.internal/cairn"});
//   if (!store.ok()) return store.status();   // names host and database, never the password
//   JobService service(**store, ServiceOptions{});
//
// Contract (sync/job_store.h) and how it is kept:
//   - seq comes from a one-row counter (jobs_seq) that each write increments inside its own
//     transaction. A SEQUENCE would hand out numbers in call order but they would become
//     visible in commit order, so a changes-feed reader could see seq 11, move its cursor past
//     10 and never see 10. The counter's row lock, held to commit, makes commit order seq order
//     (it serializes writes, which are one short transaction each).
//   - InsertOrGet: INSERT ... ON CONFLICT (device_id, idempotency_key) DO NOTHING, and only
//     if the key has no expired job; run under the counter's lock, which ExpireFinished takes
//     too, so a submission and its job's expiry never interleave.
//   - ExpireFinished: the finished rows locked (FOR UPDATE SKIP LOCKED: servers expiring at
//     once share the work), the counter advanced once for all, then one statement deletes
//     the rows and inserts their expired_jobs rows.
//   - FeedSince: one REPEATABLE READ snapshot for the jobs and expired jobs it reads.
//   - CompareAndSwap: the row is locked (FOR UPDATE) only if its seq is still the caller's.
//   - ClaimNext: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent claimers (threads, processes,
//     hosts) each lock a different job instead of racing for the oldest one.
//   - Durable on return: the commit has returned (synchronous_commit is raised to `on` if the
//     server's default is `off`).
//   - Locks are always taken job row first, counter second, so writers cannot deadlock.
// Errors: kUnavailable for what a retry may cure (connection lost or refused, serialization
// failure, deadlock, server shutting down or out of connections); kIoError for the rest; both
// name the store (user@host:port/database) and the step that failed. A lost connection is
// reopened by the next call.
// Schema: created if missing, versioned in cairn_schema ('jobs', 2); version 1 (no retention)
// is brought to 2 in place; a database whose jobs schema is newer than this build knows is
// refused (kFailedPrecondition).
// Threading: one connection; use it from one thread at a time (open one store per thread).
#ifndef CAIRN_SYNC_PG_JOB_STORE_H_
#define CAIRN_SYNC_PG_JOB_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "sync/job_store.h"

typedef struct pg_conn PGconn;

namespace cairn::sync {

struct PgJobStoreOptions {
  // A libpq connection URL or key=value string (postgresql://user:pass@host:port/db?...).
  std::string url;
};

class PgJobStore final : public JobStore {
 public:
  static constexpr int kSchemaVersion = 2;  // 2: retention (expired_jobs)

  static Result<std::unique_ptr<PgJobStore>> Open(const PgJobStoreOptions& options);
  ~PgJobStore() override;
  PgJobStore(const PgJobStore&) = delete;
  PgJobStore& operator=(const PgJobStore&) = delete;

  // "PostgreSQL job store user@host:port/database": for logs and errors (no password).
  const std::string& name() const { return name_; }

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
  Result<std::optional<StoredJob>> ClaimNext(int64_t now_ms, const ClaimRule& rule) override;

 private:
  class Query;
  PgJobStore(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  Status Ready();
  Status Exec(const std::string& what, const char* sql);
  Result<Query> Run(const std::string& what, const char* sql,
                    const std::vector<std::string>& params);
  Status Rollback();
  // Runs body() between BEGIN and COMMIT, rolling back if it or the commit fails.
  template <typename F>
  auto Transaction(F&& body) -> decltype(body());
  Status EnsureSchema();
  Result<int64_t> NextSeq();
  Status WriteJob(const StoredJob& job);
  Status Error(const std::string& what) const;

  PGconn* conn_;
  std::string name_;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_PG_JOB_STORE_H_
