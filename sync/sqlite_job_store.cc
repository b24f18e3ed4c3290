#include "sync/sqlite_job_store.h"

#include "storage/sqlite_util.h"

namespace cairn::sync {
namespace {

using storage::Exec;
using storage::SqliteStatus;
using storage::Stmt;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('caption-hq', 'image-export')),
  preset TEXT NOT NULL CHECK (preset IN ('low', 'preview', 'final')),
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('accepted', 'running', 'done', 'failed', 'cancelled')),
  seq INTEGER NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  result TEXT NOT NULL,
  UNIQUE (device_id, idempotency_key)
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_feed ON jobs(device_id, seq);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs(state, seq);
-- Retention looks only at finished jobs, oldest change first.
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(updated_at)
  WHERE state IN ('done', 'failed', 'cancelled');
-- What is left of jobs retention removed (sync/job_store.h, ExpiredJob); never deleted: their
-- seqs keep NextSeq above every seq a device's feed cursor may hold.
CREATE TABLE IF NOT EXISTS expired_jobs (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  expired_at INTEGER NOT NULL,
  UNIQUE (device_id, idempotency_key)
) STRICT;
CREATE INDEX IF NOT EXISTS expired_jobs_feed ON expired_jobs(device_id, seq);
)sql";

constexpr char kExpiredColumns[] = "id, device_id, idempotency_key, seq, expired_at";

constexpr char kColumns[] =
    "id, device_id, idempotency_key, kind, preset, payload, state, seq, created_at, updated_at, "
    "attempts, worker_id, lease_expires_at, error_code, error_message, result";

Result<StoredJob> ReadJob(const Stmt& q) {
  StoredJob j;
  j.id = q.Text(0);
  j.device_id = q.Text(1);
  j.idempotency_key = q.Text(2);
  auto kind = ParseJobKind(q.Text(3));
  auto preset = ParsePreset(q.Text(4));
  auto state = ParseJobState(q.Text(6));
  if (!kind || !preset || !state) return Corruption("job " + j.id + ": unknown kind/preset/state");
  j.kind = *kind;
  j.preset = *preset;
  j.payload_json = q.Text(5);
  j.state = *state;
  j.seq = q.Int(7);
  j.created_at_ms = q.Int(8);
  j.updated_at_ms = q.Int(9);
  j.attempts = q.Int(10);
  j.worker_id = q.Text(11);
  j.lease_expires_at_ms = q.Int(12);
  j.error_code = q.Text(13);
  j.error_message = q.Text(14);
  j.result_json = q.Text(15);
  return j;
}

ExpiredJob ReadExpired(const Stmt& q) {
  return ExpiredJob{q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4)};
}

Result<std::vector<ExpiredJob>> ReadAllExpired(Stmt& q) {
  std::vector<ExpiredJob> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ReadExpired(q));
  }
}

Result<std::vector<StoredJob>> ReadAll(Stmt& q) {
  std::vector<StoredJob> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, ReadJob(q));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const SqliteJobStoreOptions& o) {
  CAIRN_ASSIGN_OR_RETURN(sqlite3 * db,
                         storage::OpenWalDatabase(o.path, o.vfs, o.exclusive, kSchema, "job store",
                                                  o.deferred_sync));
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(db));
  return store;
}

SqliteJobStore::~SqliteJobStore() {
  cache_.Clear();  // statements first: a connection with statements does not close
  sqlite3_close(db_);
}

Result<int64_t> SqliteJobStore::NextSeq() {
  // Expired jobs' seqs count: the job with the highest seq may be gone.
  CAIRN_ASSIGN_OR_RETURN(Stmt q,
                         cache_.Get("SELECT MAX(COALESCE((SELECT MAX(seq) FROM jobs), 0), "
                                    "COALESCE((SELECT MAX(seq) FROM expired_jobs), 0)) + 1"));
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Internal("job store: no row from MAX(seq)");
  return q.Int(0);
}

Status SqliteJobStore::Commit() {
  Status s = cache_.Run("COMMIT");
  if (!s.ok()) Rollback();
  return s;
}

void SqliteJobStore::Rollback() {
  if (!sqlite3_get_autocommit(db_)) Exec(db_, "ROLLBACK").IgnoreError();
}

Result<InsertOutcome> SqliteJobStore::InsertOrGet(const StoredJob& job) {
  CAIRN_RETURN_IF_ERROR(cache_.Run("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<InsertOutcome> {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt find, cache_.Get(std::string("SELECT ") + kColumns +
                              " FROM jobs WHERE device_id=? AND idempotency_key=?"));
    find.Bind(1, job.device_id).Bind(2, job.idempotency_key);
    CAIRN_ASSIGN_OR_RETURN(bool found, find.Step());
    if (found) {
      CAIRN_ASSIGN_OR_RETURN(StoredJob existing, ReadJob(find));
      return InsertOutcome{std::move(existing), false, std::nullopt};
    }
    CAIRN_ASSIGN_OR_RETURN(
        Stmt gone, cache_.Get(std::string("SELECT ") + kExpiredColumns +
                              " FROM expired_jobs WHERE device_id=? AND idempotency_key=?"));
    gone.Bind(1, job.device_id).Bind(2, job.idempotency_key);
    CAIRN_ASSIGN_OR_RETURN(bool expired, gone.Step());
    if (expired) return InsertOutcome{StoredJob{}, false, ReadExpired(gone)};
    StoredJob j = job;
    CAIRN_ASSIGN_OR_RETURN(j.seq, NextSeq());
    CAIRN_ASSIGN_OR_RETURN(
        Stmt ins, cache_.Get(std::string("INSERT INTO jobs (") + kColumns +
                             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                             "?11, ?12, ?13, ?14, ?15, ?16)"));
    ins.Bind(1, j.id).Bind(2, j.device_id).Bind(3, j.idempotency_key);
    ins.Bind(4, JobKindName(j.kind)).Bind(5, PresetName(j.preset)).Bind(6, j.payload_json);
    ins.Bind(7, JobStateName(j.state)).Bind(8, j.seq).Bind(9, j.created_at_ms);
    ins.Bind(10, j.updated_at_ms).Bind(11, j.attempts).Bind(12, j.worker_id);
    ins.Bind(13, j.lease_expires_at_ms).Bind(14, j.error_code).Bind(15, j.error_message);
    ins.Bind(16, j.result_json);
    CAIRN_RETURN_IF_ERROR(ins.Run());
    return InsertOutcome{std::move(j), true, std::nullopt};
  };
  Result<InsertOutcome> r = body();
  if (!r.ok()) {
    Rollback();
    return r;
  }
  CAIRN_RETURN_IF_ERROR(Commit());
  return r;
}

Result<std::optional<StoredJob>> SqliteJobStore::Get(std::string_view id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, cache_.Get(std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?"));
  q.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<StoredJob>();
  CAIRN_ASSIGN_OR_RETURN(StoredJob j, ReadJob(q));
  return std::optional<StoredJob>(std::move(j));
}

Result<std::vector<StoredJob>> SqliteJobStore::ChangesSince(std::string_view device_id,
                                                            int64_t since, int limit) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, cache_.Get(std::string("SELECT ") + kColumns +
                         " FROM jobs WHERE device_id=? AND seq>? ORDER BY seq LIMIT ?"));
  q.Bind(1, device_id).Bind(2, since).Bind(3, int64_t{limit});
  return ReadAll(q);
}

Result<FeedChanges> SqliteJobStore::FeedSince(std::string_view device_id, int64_t since,
                                              int limit) {
  CAIRN_RETURN_IF_ERROR(cache_.Run("BEGIN"));  // one snapshot for both reads
  auto body = [&]() -> Result<FeedChanges> {
    FeedChanges changes;
    CAIRN_ASSIGN_OR_RETURN(changes.jobs, ChangesSince(device_id, since, limit));
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, cache_.Get(std::string("SELECT ") + kExpiredColumns +
                           " FROM expired_jobs WHERE device_id=? AND seq>? ORDER BY seq LIMIT ?"));
    q.Bind(1, device_id).Bind(2, since).Bind(3, int64_t{limit});
    CAIRN_ASSIGN_OR_RETURN(changes.expired, ReadAllExpired(q));
    return changes;
  };
  Result<FeedChanges> r = body();
  if (!r.ok()) {
    Rollback();
    return r;
  }
  CAIRN_RETURN_IF_ERROR(Commit());
  return r;
}

Result<std::optional<ExpiredJob>> SqliteJobStore::GetExpired(std::string_view id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q,
      cache_.Get(std::string("SELECT ") + kExpiredColumns + " FROM expired_jobs WHERE id=?"));
  q.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ExpiredJob>();
  return std::optional<ExpiredJob>(ReadExpired(q));
}

Result<std::vector<ExpiredJob>> SqliteJobStore::ExpireFinished(int64_t changed_before_ms,
                                                               int64_t now_ms, int limit) {
  CAIRN_RETURN_IF_ERROR(cache_.Run("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<std::vector<ExpiredJob>> {
    std::vector<ExpiredJob> gone;
    {
      CAIRN_ASSIGN_OR_RETURN(
          Stmt q, cache_.Get("SELECT id, device_id, idempotency_key FROM jobs WHERE state IN "
                             "('done', 'failed', 'cancelled') AND updated_at<? "
                             "ORDER BY updated_at, id LIMIT ?"));
      q.Bind(1, changed_before_ms).Bind(2, int64_t{limit});
      while (true) {
        CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        gone.push_back(ExpiredJob{q.Text(0), q.Text(1), q.Text(2), 0, now_ms});
      }
    }
    for (ExpiredJob& e : gone) {
      CAIRN_ASSIGN_OR_RETURN(e.seq, NextSeq());
      CAIRN_ASSIGN_OR_RETURN(
          Stmt ins, cache_.Get(std::string("INSERT INTO expired_jobs (") + kExpiredColumns +
                               ") VALUES (?, ?, ?, ?, ?)"));
      ins.Bind(1, e.id).Bind(2, e.device_id).Bind(3, e.idempotency_key).Bind(4, e.seq);
      ins.Bind(5, e.expired_at_ms);
      CAIRN_RETURN_IF_ERROR(ins.Run());
      CAIRN_ASSIGN_OR_RETURN(Stmt del, cache_.Get("DELETE FROM jobs WHERE id=?"));
      del.Bind(1, e.id);
      CAIRN_RETURN_IF_ERROR(del.Run());
    }
    return gone;
  };
  Result<std::vector<ExpiredJob>> r = body();
  if (!r.ok()) {
    Rollback();
    return r;
  }
  CAIRN_RETURN_IF_ERROR(Commit());
  return r;
}

Result<std::vector<StoredJob>> SqliteJobStore::Claimable(int64_t now_ms, int limit) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, cache_.Get(std::string("SELECT ") + kColumns +
                         " FROM jobs WHERE state='accepted' OR (state='running' AND "
                         "lease_expires_at<=?) ORDER BY seq LIMIT ?"));
  q.Bind(1, now_ms).Bind(2, int64_t{limit});
  return ReadAll(q);
}

Result<std::optional<StoredJob>> SqliteJobStore::CompareAndSwap(const StoredJob& job) {
  CAIRN_RETURN_IF_ERROR(cache_.Run("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<std::optional<StoredJob>> {
    StoredJob j = job;
    CAIRN_ASSIGN_OR_RETURN(j.seq, NextSeq());
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, cache_.Get("UPDATE jobs SET state=?1, seq=?2, updated_at=?3, attempts=?4, "
                           "worker_id=?5, lease_expires_at=?6, error_code=?7, "
                           "error_message=?8, result=?9 WHERE id=?10 AND seq=?11"));
    q.Bind(1, JobStateName(j.state)).Bind(2, j.seq).Bind(3, j.updated_at_ms);
    q.Bind(4, j.attempts).Bind(5, j.worker_id).Bind(6, j.lease_expires_at_ms);
    q.Bind(7, j.error_code).Bind(8, j.error_message).Bind(9, j.result_json);
    q.Bind(10, j.id).Bind(11, job.seq);
    CAIRN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return std::optional<StoredJob>();
    return std::optional<StoredJob>(std::move(j));
  };
  Result<std::optional<StoredJob>> r = body();
  if (!r.ok() || !r->has_value()) {
    Rollback();
    return r;
  }
  CAIRN_RETURN_IF_ERROR(Commit());
  return r;
}

}  // namespace cairn::sync
