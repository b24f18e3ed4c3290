#include "sync/pg_job_store.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "sync/pg_util.h"

namespace cairn::sync {
namespace {

using pg::DescribeUrl;
using pg::PgStatus;
using pg::kSchemaLockKey;

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('caption-hq', 'image-export')),
  preset TEXT NOT NULL CHECK (preset IN ('low', 'preview', 'final')),
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('accepted', 'running', 'done', 'failed', 'cancelled')),
  seq BIGINT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  worker_id TEXT NOT NULL,
  lease_expires_at BIGINT NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  result TEXT NOT NULL,
  UNIQUE (device_id, idempotency_key)
);
CREATE INDEX jobs_feed ON jobs (device_id, seq);
-- Only unfinished jobs are ever claimed: the index stays as small as the queue.
CREATE INDEX jobs_claim ON jobs (seq) WHERE state IN ('accepted', 'running');
CREATE TABLE jobs_seq (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), seq BIGINT NOT NULL);
INSERT INTO jobs_seq (seq) VALUES (0);
INSERT INTO cairn_schema (name, version) VALUES ('jobs', 1);
)sql";

// Version 2: retention. What is left of removed jobs (ExpiredJob), never deleted: each took a
// seq from jobs_seq, and a replay of its submission must keep finding it.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE expired_jobs (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  seq BIGINT NOT NULL UNIQUE,
  expired_at BIGINT NOT NULL,
  UNIQUE (device_id, idempotency_key)
);
CREATE INDEX expired_jobs_feed ON expired_jobs (device_id, seq);
-- Retention looks only at finished jobs, oldest change first.
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE state IN ('done', 'failed', 'cancelled');
UPDATE cairn_schema SET version = 2 WHERE name = 'jobs';
)sql";

constexpr char kExpiredColumns[] = "id, device_id, idempotency_key, seq, expired_at";
constexpr char kColumns[] =
    "id, device_id, idempotency_key, kind, preset, payload, state, seq, created_at, updated_at, "
    "attempts, worker_id, lease_expires_at, error_code, error_message, result";

constexpr char kClaimableWhere[] =
    " FROM jobs WHERE state = 'accepted' OR (state = 'running' AND lease_expires_at <= $1)"
    " ORDER BY seq";

}  // namespace

// One query's result, freed when it goes.
class PgJobStore::Query : public pg::Rows {
 public:
  using pg::Rows::Rows;
  int rows() const { return count(); }

  Result<StoredJob> Job(int row) const {
    StoredJob j;
    j.id = Text(row, 0);
    j.device_id = Text(row, 1);
    j.idempotency_key = Text(row, 2);
    auto kind = ParseJobKind(Text(row, 3));
    auto preset = ParsePreset(Text(row, 4));
    auto state = ParseJobState(Text(row, 6));
    if (!kind || !preset || !state) {
      return Corruption("job " + j.id + ": unknown kind/preset/state in PostgreSQL");
    }
    j.kind = *kind;
    j.preset = *preset;
    j.payload_json = Text(row, 5);
    j.state = *state;
    j.seq = Int(row, 7);
    j.created_at_ms = Int(row, 8);
    j.updated_at_ms = Int(row, 9);
    j.attempts = Int(row, 10);
    j.worker_id = Text(row, 11);
    j.lease_expires_at_ms = Int(row, 12);
    j.error_code = Text(row, 13);
    j.error_message = Text(row, 14);
    j.result_json = Text(row, 15);
    return j;
  }

  ExpiredJob Expired(int row) const {
    return ExpiredJob{Text(row, 0), Text(row, 1), Text(row, 2), Int(row, 3), Int(row, 4)};
  }

  std::vector<ExpiredJob> AllExpired() const {
    std::vector<ExpiredJob> out;
    for (int i = 0; i < rows(); ++i) out.push_back(Expired(i));
    return out;
  }

  Result<std::vector<StoredJob>> Jobs() const {
    std::vector<StoredJob> out;
    for (int i = 0; i < rows(); ++i) {
      CAIRN_ASSIGN_OR_RETURN(StoredJob j, Job(i));
      out.push_back(std::move(j));
    }
    return out;
  }
};

Result<std::unique_ptr<PgJobStore>> PgJobStore::Open(const PgJobStoreOptions& options) {
  const std::string where = DescribeUrl(options.url);
  if (where.empty()) {
    return InvalidArgument(
        "the job store URL is not a PostgreSQL connection URL "
        "(postgresql://[user[:password]@][host][:port][/database][?param=value...])");
  }
  PGconn* conn = pg::Connect(options.url);
  std::unique_ptr<PgJobStore> store(new PgJobStore(conn, "PostgreSQL job store " + where));
  if (conn == nullptr) return ResourceExhausted(store->name_ + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) return store->Error("connecting");
  CAIRN_RETURN_IF_ERROR(store->EnsureSchema());
  return store;
}

PgJobStore::~PgJobStore() { PQfinish(conn_); }

Status PgJobStore::Error(const std::string& what) const {
  return PgStatus(name_, what, conn_, nullptr);
}

// Before each call: reconnect after a lost connection, and never start inside a transaction
// an earlier failure left open.
Status PgJobStore::Ready() {
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) return Error("reconnecting");
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return Rollback();
  return Status::Ok();
}

Status PgJobStore::Exec(const std::string& what, const char* sql) {
  PGresult* r = PQexec(conn_, sql);
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return Status::Ok();
  }
  Status s = PgStatus(name_, what, conn_, r);
  PQclear(r);
  return s;
}

Result<PgJobStore::Query> PgJobStore::Run(const std::string& what, const char* sql,
                                          const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  // Text parameters: every value here is text or a decimal integer, and BIGINT/TEXT columns
  // parse them exactly.
  PGresult* r = PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = PgStatus(name_, what, conn_, r);
    PQclear(r);
    return s;
  }
  return Query(r);
}

Status PgJobStore::Rollback() {
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return Status::Ok();
  return Exec("rolling back", "ROLLBACK");
}

template <typename F>
auto PgJobStore::Transaction(F&& body) -> decltype(body()) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_RETURN_IF_ERROR(Exec("beginning a transaction", "BEGIN"));
  auto result = body();
  if (!result.ok()) {
    Rollback().IgnoreError();  // the body's error is the one to report
    return result;
  }
  Status committed = Exec("committing", "COMMIT");
  if (!committed.ok()) {
    Rollback().IgnoreError();
    return committed;
  }
  return result;
}

Status PgJobStore::EnsureSchema() {
  auto checked = Transaction([&]() -> Result<bool> {
    CAIRN_RETURN_IF_ERROR(
        Run("locking the schema", "SELECT pg_advisory_xact_lock($1)", {kSchemaLockKey}).status());
    CAIRN_RETURN_IF_ERROR(Exec("creating cairn_schema",
                               "CREATE TABLE IF NOT EXISTS cairn_schema "
                               "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    CAIRN_ASSIGN_OR_RETURN(
        Query q, Run("reading the schema version",
                     "SELECT version FROM cairn_schema WHERE name = 'jobs'", {}));
    int64_t version = 0;
    if (q.rows() == 0) {
      CAIRN_RETURN_IF_ERROR(Exec("creating the jobs schema", kSchemaV1));
      version = 1;
    } else {
      version = q.Int(0, 0);
    }
    if (version > kSchemaVersion) {
      return FailedPrecondition(name_ + ": the jobs schema is version " +
                                std::to_string(version) + ", newer than this cairn-server knows (" +
                                std::to_string(kSchemaVersion) + "); run a newer cairn-server");
    }
    if (version == 1) {
      CAIRN_RETURN_IF_ERROR(Exec("adding retention to the jobs schema (version 2)", kSchemaV2));
    }
    return true;
  });
  CAIRN_RETURN_IF_ERROR(checked.status());
  // "Durable once it returns OK": a database whose default is synchronous_commit=off would
  // acknowledge commits it can still lose.
  CAIRN_ASSIGN_OR_RETURN(Query sync,
                         Run("reading synchronous_commit", "SHOW synchronous_commit", {}));
  if (sync.rows() == 1 && sync.Text(0, 0) == "off") {
    CAIRN_RETURN_IF_ERROR(Exec("setting synchronous_commit", "SET synchronous_commit TO on"));
  }
  return Status::Ok();
}

Result<int64_t> PgJobStore::NextSeq() {
  CAIRN_ASSIGN_OR_RETURN(Query q, Run("taking the next seq",
                                      "UPDATE jobs_seq SET seq = seq + 1 RETURNING seq", {}));
  if (q.rows() != 1) return Corruption(name_ + ": the jobs_seq counter row is missing");
  return q.Int(0, 0);
}

Status PgJobStore::WriteJob(const StoredJob& j) {
  return Run("writing job " + j.id,
             "UPDATE jobs SET state = $1, seq = $2, updated_at = $3, attempts = $4, "
             "worker_id = $5, lease_expires_at = $6, error_code = $7, error_message = $8, "
             "result = $9 WHERE id = $10",
             {JobStateName(j.state), std::to_string(j.seq), std::to_string(j.updated_at_ms),
              std::to_string(j.attempts), j.worker_id, std::to_string(j.lease_expires_at_ms),
              j.error_code, j.error_message, j.result_json, j.id})
      .status();
}

Result<InsertOutcome> PgJobStore::InsertOrGet(const StoredJob& job) {
  const std::string find = std::string("SELECT ") + kColumns +
                           " FROM jobs WHERE device_id = $1 AND idempotency_key = $2";
  const std::string find_expired = std::string("SELECT ") + kExpiredColumns +
                                   " FROM expired_jobs WHERE device_id = $1 AND "
                                   "idempotency_key = $2";
  const std::vector<std::string> key = {job.device_id, job.idempotency_key};
  // A retried submission (the common repeat) is answered without taking the write lock.
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(Query existing, Run("reading a job", find.c_str(), key));
  if (existing.rows() == 1) {
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, existing.Job(0));
    return InsertOutcome{std::move(j), false, std::nullopt};
  }
  return Transaction([&]() -> Result<InsertOutcome> {
    StoredJob j = job;
    // The counter's lock first: an expiry takes it too, so from here on it has either
    // committed (its ExpiredJob is seen below) or not begun.
    CAIRN_ASSIGN_OR_RETURN(j.seq, NextSeq());
    CAIRN_ASSIGN_OR_RETURN(
        Query ins,
        Run("inserting a job",
            (std::string("INSERT INTO jobs (") + kColumns +
             ") SELECT $1, $2, $3, $4, $5, $6, $7, $8::bigint, $9::bigint, $10::bigint, "
             "$11::bigint, $12, $13::bigint, $14, $15, $16 "
             "WHERE NOT EXISTS (SELECT 1 FROM expired_jobs WHERE device_id = $2 AND "
             "idempotency_key = $3) "
             "ON CONFLICT (device_id, idempotency_key) DO NOTHING RETURNING id")
                .c_str(),
            {j.id, j.device_id, j.idempotency_key, JobKindName(j.kind), PresetName(j.preset),
             j.payload_json, JobStateName(j.state), std::to_string(j.seq),
             std::to_string(j.created_at_ms), std::to_string(j.updated_at_ms),
             std::to_string(j.attempts), j.worker_id, std::to_string(j.lease_expires_at_ms),
             j.error_code, j.error_message, j.result_json}));
    if (ins.rows() == 1) return InsertOutcome{std::move(j), true, std::nullopt};
    // Another server inserted it since the first look (this statement sees its commit), or the
    // key's job expired.
    CAIRN_ASSIGN_OR_RETURN(Query raced, Run("reading a job", find.c_str(), key));
    if (raced.rows() == 1) {
      CAIRN_ASSIGN_OR_RETURN(StoredJob other, raced.Job(0));
      return InsertOutcome{std::move(other), false, std::nullopt};
    }
    CAIRN_ASSIGN_OR_RETURN(Query gone, Run("reading an expired job", find_expired.c_str(), key));
    if (gone.rows() != 1) return Internal(name_ + ": job " + j.id + " conflicted but is absent");
    return InsertOutcome{StoredJob{}, false, gone.Expired(0)};
  });
}

Result<std::optional<StoredJob>> PgJobStore::Get(std::string_view id) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(
      Query q, Run("reading job " + std::string(id),
                   (std::string("SELECT ") + kColumns + " FROM jobs WHERE id = $1").c_str(),
                   {std::string(id)}));
  if (q.rows() == 0) return std::optional<StoredJob>();
  CAIRN_ASSIGN_OR_RETURN(StoredJob j, q.Job(0));
  return std::optional<StoredJob>(std::move(j));
}

Result<std::vector<StoredJob>> PgJobStore::ChangesSince(std::string_view device_id, int64_t since,
                                                        int limit) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(
      Query q, Run("reading the changes feed",
                   (std::string("SELECT ") + kColumns +
                    " FROM jobs WHERE device_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                       .c_str(),
                   {std::string(device_id), std::to_string(since), std::to_string(limit)}));
  return q.Jobs();
}

Result<FeedChanges> PgJobStore::FeedSince(std::string_view device_id, int64_t since, int limit) {
  const std::vector<std::string> params = {std::string(device_id), std::to_string(since),
                                           std::to_string(limit)};
  // One snapshot for both reads: a change committed between them could otherwise have a seq
  // below the last one returned and never be seen by a device that moved its cursor past it.
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_RETURN_IF_ERROR(
      Exec("beginning a read", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto body = [&]() -> Result<FeedChanges> {
    FeedChanges changes;
    CAIRN_ASSIGN_OR_RETURN(
        Query jobs, Run("reading the changes feed",
                        (std::string("SELECT ") + kColumns +
                         " FROM jobs WHERE device_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                            .c_str(),
                        params));
    CAIRN_ASSIGN_OR_RETURN(changes.jobs, jobs.Jobs());
    CAIRN_ASSIGN_OR_RETURN(
        Query gone, Run("reading the changes feed's expired jobs",
                        (std::string("SELECT ") + kExpiredColumns +
                         " FROM expired_jobs WHERE device_id = $1 AND seq > $2 ORDER BY seq "
                         "LIMIT $3")
                            .c_str(),
                        params));
    changes.expired = gone.AllExpired();
    return changes;
  };
  Result<FeedChanges> r = body();
  if (!r.ok()) {
    Rollback().IgnoreError();
    return r;
  }
  CAIRN_RETURN_IF_ERROR(Exec("ending a read", "COMMIT"));
  return r;
}

Result<std::optional<ExpiredJob>> PgJobStore::GetExpired(std::string_view id) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(
      Query q,
      Run("reading expired job " + std::string(id),
          (std::string("SELECT ") + kExpiredColumns + " FROM expired_jobs WHERE id = $1").c_str(),
          {std::string(id)}));
  if (q.rows() == 0) return std::optional<ExpiredJob>();
  return std::optional<ExpiredJob>(q.Expired(0));
}

Result<std::vector<ExpiredJob>> PgJobStore::ExpireFinished(int64_t changed_before_ms,
                                                           int64_t now_ms, int limit) {
  return Transaction([&]() -> Result<std::vector<ExpiredJob>> {
    // Rows first (skipping any another server is expiring), counter second, as every writer.
    CAIRN_ASSIGN_OR_RETURN(
        Query found, Run("finding finished jobs to expire",
                         "SELECT id, device_id, idempotency_key FROM jobs WHERE state IN "
                         "('done', 'failed', 'cancelled') AND updated_at < $1 "
                         "ORDER BY updated_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
                         {std::to_string(changed_before_ms), std::to_string(limit)}));
    std::vector<ExpiredJob> gone;
    if (found.rows() == 0) return gone;
    // One step of the counter for all of them: seqs last-n+1 .. last.
    CAIRN_ASSIGN_OR_RETURN(
        Query counter, Run("taking seqs for expired jobs",
                           "UPDATE jobs_seq SET seq = seq + $1 RETURNING seq",
                           {std::to_string(found.rows())}));
    if (counter.rows() != 1) return Corruption(name_ + ": the jobs_seq counter row is missing");
    int64_t seq = counter.Int(0, 0) - found.rows();
    // One statement for all: their ids, each bound once, name both the rows to delete and the
    // records to insert.
    std::string values, ids;
    std::vector<std::string> params;
    for (int i = 0; i < found.rows(); ++i) {
      gone.push_back(
          ExpiredJob{found.Text(i, 0), found.Text(i, 1), found.Text(i, 2), ++seq, now_ms});
      const ExpiredJob& e = gone.back();
      const std::string n = std::to_string(params.size() + 1);
      ids += (i == 0 ? "$" : ", $") + n;
      values += (i == 0 ? "($" : ", ($") + n + ", $" + std::to_string(params.size() + 2) +
                ", $" + std::to_string(params.size() + 3) + ", $" +
                std::to_string(params.size() + 4) + "::bigint, $" +
                std::to_string(params.size() + 5) + "::bigint)";
      params.insert(params.end(), {e.id, e.device_id, e.idempotency_key, std::to_string(e.seq),
                                   std::to_string(e.expired_at_ms)});
    }
    CAIRN_RETURN_IF_ERROR(Run("removing expired jobs",
                              ("WITH removed AS (DELETE FROM jobs WHERE id IN (" + ids +
                               ")) INSERT INTO expired_jobs (" + std::string(kExpiredColumns) +
                               ") VALUES " + values)
                                  .c_str(),
                              params)
                              .status());
    return gone;
  });
}

Result<std::vector<StoredJob>> PgJobStore::Claimable(int64_t now_ms, int limit) {
  CAIRN_RETURN_IF_ERROR(Ready());
  CAIRN_ASSIGN_OR_RETURN(
      Query q, Run("reading claimable jobs",
                   (std::string("SELECT ") + kColumns + kClaimableWhere + " LIMIT $2").c_str(),
                   {std::to_string(now_ms), std::to_string(limit)}));
  return q.Jobs();
}

Result<std::optional<StoredJob>> PgJobStore::CompareAndSwap(const StoredJob& job) {
  return Transaction([&]() -> Result<std::optional<StoredJob>> {
    // Row first, counter second (the order every writer keeps).
    CAIRN_ASSIGN_OR_RETURN(Query lock, Run("locking job " + job.id,
                                           "SELECT 1 FROM jobs WHERE id = $1 AND seq = $2 "
                                           "FOR UPDATE",
                                           {job.id, std::to_string(job.seq)}));
    if (lock.rows() == 0) return std::optional<StoredJob>();
    StoredJob j = job;
    CAIRN_ASSIGN_OR_RETURN(j.seq, NextSeq());
    CAIRN_RETURN_IF_ERROR(WriteJob(j));
    return std::optional<StoredJob>(std::move(j));
  });
}

Result<std::optional<StoredJob>> PgJobStore::ClaimNext(int64_t now_ms, const ClaimRule& rule) {
  // Jobs one claim may pass over (fail as worker_lost) before it returns; the next poll goes on.
  constexpr int kMaxPassedOver = 64;
  struct Step {
    bool none_left = false;
    bool leased = false;
    StoredJob job;
  };
  const std::string sql = std::string("SELECT ") + kColumns + kClaimableWhere +
                          " LIMIT 1 FOR UPDATE SKIP LOCKED";
  for (int i = 0; i < kMaxPassedOver; ++i) {
    CAIRN_ASSIGN_OR_RETURN(Step step, Transaction([&]() -> Result<Step> {
      CAIRN_ASSIGN_OR_RETURN(Query q, Run("finding a job to claim", sql.c_str(),
                                          {std::to_string(now_ms)}));
      if (q.rows() == 0) return Step{.none_left = true, .leased = false, .job = {}};
      CAIRN_ASSIGN_OR_RETURN(StoredJob found, q.Job(0));
      ClaimDecision decision = rule(found);
      CAIRN_ASSIGN_OR_RETURN(decision.job.seq, NextSeq());
      CAIRN_RETURN_IF_ERROR(WriteJob(decision.job));
      return Step{.none_left = false, .leased = decision.leased, .job = std::move(decision.job)};
    }));
    if (step.none_left) return std::optional<StoredJob>();
    if (step.leased) return std::optional<StoredJob>(std::move(step.job));
  }
  return std::optional<StoredJob>();
}

}  // namespace cairn::sync
