// Vault records: drafts and their history, search, settings, assets, models, the outbox.
#include <nlohmann/json.hpp>

#include "core/crypto/random.h"
#include "storage/sqlite_util.h"
#include "storage/vault.h"

namespace cairn::storage {
namespace {

std::string HashtagsJson(const std::vector<std::string>& tags) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : tags) j.push_back(t);
  // Invalid UTF-8 in a tag is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<std::string>> ParseHashtags(const std::string& text, int64_t draft_id) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    std::vector<std::string> out;
    for (const auto& t : j) out.push_back(t.get<std::string>());
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Corruption("draft " + std::to_string(draft_id) + ": hashtags are not a JSON array of "
                      "strings: " + e.what());
  }
}

Status CheckStatus(const std::string& status) {
  if (status == "draft" || status == "ready" || status == "posted") return Status::Ok();
  return InvalidArgument("draft status must be draft, ready or posted, got '" + status + "'");
}

constexpr char kDraftColumns[] =
    "id, caption, hashtags, task, context, style, output_format, status, version, created_at, "
    "updated_at";

Result<Draft> ReadDraft(const Stmt& q) {
  Draft d;
  d.id = q.Int(0);
  d.content.caption = q.Text(1);
  CAIRN_ASSIGN_OR_RETURN(d.content.hashtags, ParseHashtags(q.Text(2), d.id));
  d.content.prompt = {q.Text(3), q.Text(4), q.Text(5), q.Text(6)};
  d.content.status = q.Text(7);
  d.version = q.Int(8);
  d.created_at_ms = q.Int(9);
  d.updated_at_ms = q.Int(10);
  return d;
}

void BindContent(Stmt& q, int first, const DraftInput& d) {
  q.Bind(first, d.caption)
      .Bind(first + 1, HashtagsJson(d.hashtags))
      .Bind(first + 2, d.prompt.task)
      .Bind(first + 3, d.prompt.context)
      .Bind(first + 4, d.prompt.style)
      .Bind(first + 5, d.prompt.output_format)
      .Bind(first + 6, d.status);
}

// User text -> an FTS5 query that cannot be a syntax error: each word quoted, the last one a
// prefix. Word characters are letters and digits (any non-ASCII byte counts, so words in any
// script survive); everything else separates.
std::string FtsQuery(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      cur += c;
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  std::string q;
  for (size_t i = 0; i < words.size(); ++i) {
    if (!q.empty()) q += ' ';
    q += '"' + words[i] + '"';
    if (i + 1 == words.size()) q += '*';
  }
  return q;
}

constexpr char kJobColumns[] =
    "id, idempotency_key, kind, preset, payload, state, attempts, next_attempt_at, last_error, "
    "server_job_id, created_at, updated_at, cancel_requested, result, draft_id, source_uploaded, "
    "resubmits";

bool IsJobState(const std::string& s) {
  return s == "queued" || s == "sending" || s == "accepted" || s == "running" || s == "done" ||
         s == "failed" || s == "cancelled";
}

bool IsTerminalJobState(const std::string& s) {
  return s == "done" || s == "failed" || s == "cancelled";
}

OutboxJob ReadJob(const Stmt& q) {
  OutboxJob j;
  j.id = q.Int(0);
  j.idempotency_key = q.Text(1);
  j.kind = q.Text(2);
  j.preset = q.Text(3);
  j.payload_json = q.Text(4);
  j.state = q.Text(5);
  j.attempts = q.Int(6);
  j.next_attempt_at_ms = q.Int(7);
  j.last_error = q.Text(8);
  j.server_job_id = q.Text(9);
  j.created_at_ms = q.Int(10);
  j.updated_at_ms = q.Int(11);
  j.cancel_requested = q.Int(12) != 0;
  j.result_json = q.Text(13);
  if (!q.IsNull(14)) j.draft_id = q.Int(14);
  j.source_uploaded = q.Int(15) != 0;
  j.resubmits = q.Int(16);
  return j;
}

constexpr char kAssetColumns[] =
    "id, kind, mime, blob_hash, bytes, width, height, draft_id, model_id, model_version, "
    "model_checksum, quantization, backend, tier, preset, created_at, prompt_schema, seed, "
    "details, job_id";

Asset ReadAsset(const Stmt& q) {
  Asset a;
  a.id = q.Int(0);
  a.content.kind = q.Text(1);
  a.content.mime = q.Text(2);
  a.content.blob_hash = q.Text(3);
  a.content.bytes = q.Int(4);
  a.content.width = static_cast<int>(q.Int(5));
  a.content.height = static_cast<int>(q.Int(6));
  if (!q.IsNull(7)) a.content.draft_id = q.Int(7);
  a.content.provenance = {q.Text(8),  q.Text(9),  q.Text(10), q.Text(11),
                          q.Text(12), q.Text(13), q.Text(14), q.Text(16),
                          static_cast<uint64_t>(q.Int(17))};
  a.created_at_ms = q.Int(15);
  a.content.details = q.Text(18);
  if (!q.IsNull(19)) a.content.job_id = q.Int(19);
  return a;
}

}  // namespace

Result<int64_t> Vault::CreateDraft(const DraftInput& draft) {
  CAIRN_RETURN_IF_ERROR(CheckStatus(draft.status));
  int64_t id = 0;
  const int64_t now = NowMs();
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "INSERT INTO drafts (caption, hashtags, task, context, style, "
                              "output_format, status, version, created_at, updated_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)"));
    BindContent(q, 1, draft);
    q.Bind(8, now);
    CAIRN_RETURN_IF_ERROR(q.Run());
    id = sqlite3_last_insert_rowid(db_);
    return Status::Ok();
  }));
  return id;
}

Result<Draft> Vault::GetDraft(int64_t id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kDraftColumns + " FROM drafts WHERE id=?"));
  q.Bind(1, id);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return NotFound("no draft with id " + std::to_string(id));
  return ReadDraft(q);
}

Status Vault::UpdateDraft(int64_t id, const DraftInput& draft) {
  CAIRN_RETURN_IF_ERROR(CheckStatus(draft.status));
  const int64_t now = NowMs();
  return InTransaction([&]() -> Status {
    // The current version moves to the history, then the row takes the new content.
    CAIRN_ASSIGN_OR_RETURN(
        Stmt keep, stmts_.Get(db_,
                                 "INSERT INTO draft_versions SELECT id, version, caption, hashtags, "
                                 "task, context, style, output_format, status, updated_at "
                                 "FROM drafts WHERE id=?"));
    keep.Bind(1, id);
    CAIRN_RETURN_IF_ERROR(keep.Run());
    if (sqlite3_changes(db_) == 0) return NotFound("no draft with id " + std::to_string(id));
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "UPDATE drafts SET caption=?1, hashtags=?2, task=?3, context=?4, "
                              "style=?5, output_format=?6, status=?7, version=version+1, "
                              "updated_at=?8 WHERE id=?9"));
    BindContent(q, 1, draft);
    q.Bind(8, now).Bind(9, id);
    return q.Run();
  });
}

Status Vault::DeleteDraft(int64_t id) {
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "DELETE FROM drafts WHERE id=?"));
    q.Bind(1, id);
    CAIRN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return NotFound("no draft with id " + std::to_string(id));
    return Status::Ok();
  });
}

Result<std::vector<Draft>> Vault::ListDrafts(int limit, int offset) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kDraftColumns +
                                     " FROM drafts ORDER BY updated_at DESC, id DESC "
                                     "LIMIT ? OFFSET ?"));
  q.Bind(1, int64_t{limit}).Bind(2, int64_t{offset});
  std::vector<Draft> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    CAIRN_ASSIGN_OR_RETURN(Draft d, ReadDraft(q));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<DraftVersion>> Vault::DraftHistory(int64_t id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_,
                            "SELECT version, caption, hashtags, task, context, style, "
                            "output_format, status, saved_at FROM draft_versions "
                            "WHERE draft_id=? ORDER BY version"));
  q.Bind(1, id);
  std::vector<DraftVersion> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    DraftVersion v;
    v.version = q.Int(0);
    v.content.caption = q.Text(1);
    CAIRN_ASSIGN_OR_RETURN(v.content.hashtags, ParseHashtags(q.Text(2), id));
    v.content.prompt = {q.Text(3), q.Text(4), q.Text(5), q.Text(6)};
    v.content.status = q.Text(7);
    v.saved_at_ms = q.Int(8);
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<SearchHit>> Vault::SearchDrafts(std::string_view query, int limit) {
  std::vector<SearchHit> out;
  const std::string fts = FtsQuery(query);
  if (fts.empty()) return out;
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_,
                            "SELECT rowid, bm25(drafts_fts, 10.0, 5.0, 1.0), "
                            "snippet(drafts_fts, 0, '[', ']', '...', 10) FROM drafts_fts "
                            "WHERE drafts_fts MATCH ? ORDER BY bm25(drafts_fts, 10.0, 5.0, 1.0) "
                            "LIMIT ?"));
  q.Bind(1, fts).Bind(2, int64_t{limit});
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    out.push_back({q.Int(0), -q.Double(1), q.Text(2)});
  }
  return out;
}

Status Vault::SetSetting(std::string_view key, std::string_view value) {
  if (key.empty()) return InvalidArgument("setting key is empty");
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_, "INSERT INTO settings (key, value) VALUES (?, ?) "
                                   "ON CONFLICT(key) DO UPDATE SET value=excluded.value"));
    q.Bind(1, key).Bind(2, value);
    return q.Run();
  });
}

Result<std::optional<std::string>> Vault::GetSetting(std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "SELECT value FROM settings WHERE key=?"));
  q.Bind(1, key);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

Result<int64_t> Vault::AddAsset(const AssetInput& a) {
  if (a.blob_hash.empty()) return InvalidArgument("asset has no blob hash");
  if (a.kind != "photo" && a.kind != "render" && a.kind != "thumbnail" && a.kind != "caption-hq") {
    return InvalidArgument("asset kind must be photo, render, thumbnail or caption-hq, not '" +
                           a.kind + "'");
  }
  if (a.kind == "caption-hq" && !a.job_id) {
    return InvalidArgument("a caption-hq asset must name the outbox job that made it");
  }
  const nlohmann::json details = nlohmann::json::parse(a.details, nullptr, false);
  if (!details.is_object()) {
    return InvalidArgument("asset details must be a JSON object");
  }
  int64_t id = 0;
  const int64_t now = NowMs();
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    if (a.kind == "caption-hq") {
      CAIRN_ASSIGN_OR_RETURN(std::optional<Asset> had, FindJobAsset(a.kind, *a.job_id));
      if (had) {
        return AlreadyExists("job " + std::to_string(*a.job_id) + " already has its caption-hq "
                             "asset (" + std::to_string(had->id) + ")");
      }
    }
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "INSERT INTO assets (kind, mime, blob_hash, bytes, width, height, "
                              "draft_id, model_id, model_version, model_checksum, quantization, "
                              "backend, tier, preset, created_at, prompt_schema, seed, details, "
                              "job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                              "?13, ?14, ?15, ?16, ?17, ?18, ?19)"));
    const Provenance& p = a.provenance;
    q.Bind(1, a.kind).Bind(2, a.mime).Bind(3, a.blob_hash).Bind(4, a.bytes);
    q.Bind(5, int64_t{a.width}).Bind(6, int64_t{a.height}).Bind(7, a.draft_id);
    q.Bind(8, p.model_id).Bind(9, p.model_version).Bind(10, p.model_checksum);
    q.Bind(11, p.quantization).Bind(12, p.backend).Bind(13, p.tier).Bind(14, p.preset);
    q.Bind(15, now).Bind(16, p.prompt_schema).Bind(17, static_cast<int64_t>(p.seed));
    q.Bind(18, details.dump()).Bind(19, a.job_id);
    CAIRN_RETURN_IF_ERROR(q.Run());
    id = sqlite3_last_insert_rowid(db_);
    return Status::Ok();
  }));
  return id;
}

Result<Asset> Vault::GetAsset(int64_t id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kAssetColumns + " FROM assets WHERE id=?"));
  q.Bind(1, id);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return NotFound("no asset with id " + std::to_string(id));
  return ReadAsset(q);
}

Result<std::vector<Asset>> Vault::ListAssets(std::string_view kind, int limit, int offset) {
  if (limit <= 0 || offset < 0) {
    return InvalidArgument("list assets: limit must be > 0, offset >= 0");
  }
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kAssetColumns +
                                  " FROM assets WHERE ?1 = '' OR kind = ?1 ORDER BY id DESC "
                                  "LIMIT ?2 OFFSET ?3"));
  q.Bind(1, kind).Bind(2, int64_t{limit}).Bind(3, int64_t{offset});
  std::vector<Asset> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    out.push_back(ReadAsset(q));
  }
  return out;
}

Result<std::optional<Asset>> Vault::FindAsset(std::string_view kind, std::string_view blob_hash) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kAssetColumns +
                                  " FROM assets WHERE blob_hash = ?1 AND kind = ?2 "
                                  "ORDER BY id DESC LIMIT 1"));
  q.Bind(1, blob_hash).Bind(2, kind);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return std::optional<Asset>();
  return std::optional<Asset>(ReadAsset(q));
}

Result<std::optional<Asset>> Vault::FindJobAsset(std::string_view kind, int64_t job_id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kAssetColumns +
                                  " FROM assets WHERE job_id = ?1 AND kind = ?2 "
                                  "ORDER BY id DESC LIMIT 1"));
  q.Bind(1, job_id).Bind(2, kind);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return std::optional<Asset>();
  return std::optional<Asset>(ReadAsset(q));
}

Status Vault::DeleteAsset(int64_t id) {
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "DELETE FROM assets WHERE id = ?"));
    q.Bind(1, id);
    CAIRN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return NotFound("no asset with id " + std::to_string(id));
    return Status::Ok();
  });
}

Status Vault::PutModel(const InstalledModel& m) {
  if (m.id.empty()) return InvalidArgument("model has no id");
  const int64_t now = NowMs();
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "INSERT OR REPLACE INTO models (id, version, manifest, licence_spdx, "
                              "commercial_use, state, bytes, updated_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, m.id).Bind(2, m.version).Bind(3, m.manifest_json).Bind(4, m.licence_spdx);
    q.Bind(5, int64_t{m.commercial_use ? 1 : 0}).Bind(6, m.state).Bind(7, m.bytes).Bind(8, now);
    return q.Run();
  });
}

Result<std::vector<InstalledModel>> Vault::ListModels() {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_,
                            "SELECT id, version, manifest, licence_spdx, commercial_use, state, "
                            "bytes, updated_at FROM models ORDER BY id"));
  std::vector<InstalledModel> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4) != 0, q.Text(5), q.Int(6),
                   q.Int(7)});
  }
  return out;
}

Result<OutboxJob> Vault::EnqueueJob(std::string_view kind, std::string_view preset,
                                    std::string_view payload_json,
                                    std::optional<int64_t> draft_id) {
  if (!nlohmann::json::accept(payload_json)) {
    return InvalidArgument("job payload is not valid JSON");
  }
  // The idempotency key exists from creation, so every delivery attempt carries the same one.
  const std::string key = ToHex(crypto::RandomBytes(16));
  const int64_t now = NowMs();
  int64_t id = 0;
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "INSERT INTO outbox_jobs (idempotency_key, kind, preset, payload, "
                              "state, created_at, updated_at, draft_id) "
                              "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)"));
    q.Bind(1, key).Bind(2, kind).Bind(3, preset).Bind(4, payload_json).Bind(5, now).Bind(6, now);
    q.Bind(7, draft_id);
    CAIRN_RETURN_IF_ERROR(q.Run());
    id = sqlite3_last_insert_rowid(db_);
    return Status::Ok();
  }));
  return GetJob(id);
}

Result<OutboxJob> Vault::GetJob(int64_t id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q,
      stmts_.Get(db_, std::string("SELECT ") + kJobColumns + " FROM outbox_jobs WHERE id=?"));
  q.Bind(1, id);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return NotFound("no job with id " + std::to_string(id));
  return ReadJob(q);
}

Result<std::vector<OutboxJob>> Vault::ListJobs() { return ListJobsWhere(""); }

Result<std::vector<OutboxJob>> Vault::ListUnfinishedJobs() {
  return ListJobsWhere(" WHERE state NOT IN ('done', 'failed', 'cancelled')");
}

Status Vault::UpdateJob(const OutboxJob& job) {
  if (!IsJobState(job.state)) {
    return InvalidArgument("job " + std::to_string(job.id) + ": unknown state '" + job.state + "'");
  }
  const int64_t now = NowMs();
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt cur, stmts_.Get(db_, "SELECT state FROM outbox_jobs WHERE id=?"));
    cur.Bind(1, job.id);
    CAIRN_ASSIGN_OR_RETURN(bool found, cur.Step());
    if (!found) return NotFound("no job with id " + std::to_string(job.id));
    const std::string state = cur.Text(0);
    if (IsTerminalJobState(state) && state != job.state) {
      return FailedPrecondition("job " + std::to_string(job.id) + " is already " + state +
                                "; it cannot become " + job.state);
    }
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_,
                              "UPDATE outbox_jobs SET state=?1, attempts=?2, next_attempt_at=?3, "
                              "last_error=?4, server_job_id=?5, cancel_requested=?6, result=?7, "
                              "updated_at=?8, source_uploaded=?10, resubmits=?11 WHERE id=?9"));
    q.Bind(1, job.state).Bind(2, job.attempts).Bind(3, job.next_attempt_at_ms);
    q.Bind(4, job.last_error).Bind(5, job.server_job_id);
    q.Bind(6, int64_t{job.cancel_requested ? 1 : 0}).Bind(7, job.result_json);
    q.Bind(8, now).Bind(9, job.id);
    q.Bind(10, int64_t{job.source_uploaded ? 1 : 0}).Bind(11, job.resubmits);
    return q.Run();
  });
}

Result<std::vector<OutboxJob>> Vault::ListJobsWhere(const char* where_sql) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT ") + kJobColumns + " FROM outbox_jobs" +
                                     where_sql + " ORDER BY id"));
  std::vector<OutboxJob> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    out.push_back(ReadJob(q));
  }
  return out;
}

}  // namespace cairn::storage
