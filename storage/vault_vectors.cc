// Vault: draft vectors for semantic search, and search fused from full text and meaning.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/crypto/hash.h"
#include "core/search/rank.h"
#include "storage/sqlite_util.h"
#include "storage/vault.h"

namespace cairn::storage {
namespace {

constexpr int kMaxDims = 4096;
constexpr size_t kSnippetBytes = 90;
// How deep each ranking goes before fusion.
constexpr int kRankDepth = 100;

Result<Bytes> TextHash(std::string_view text) {
  return crypto::Blake2bHash(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::vector<std::string> HashtagList(const std::string& json_text) {
  std::vector<std::string> out;
  try {
    for (const auto& t : nlohmann::json::parse(json_text)) {
      if (t.is_string()) out.push_back(t.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    // A damaged hashtag list is reported by GetDraft; the text is still embedded.
  }
  return out;
}

// The first `max` bytes of `text`, cut at a UTF-8 character boundary, with "..." if cut.
std::string Snippet(const std::string& text) {
  if (text.size() <= kSnippetBytes) return text;
  size_t n = kSnippetBytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n) + "...";
}

}  // namespace

std::string DraftEmbeddingText(const std::string& caption, const std::vector<std::string>& hashtags,
                               const std::string& context) {
  std::string text = caption;
  text += '\n';
  for (const std::string& h : hashtags) text += h + ' ';
  text += '\n';
  text += context;
  return text;
}

Result<std::vector<DraftText>> Vault::DraftsToEmbed(std::string_view model_id, int limit) {
  std::vector<DraftText> out;
  if (model_id.empty()) return InvalidArgument("embedding model id is empty");
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    std::vector<std::pair<int64_t, int64_t>> unchanged;  // (draft, version)
    {  // the statement is reset before the updates below
      CAIRN_ASSIGN_OR_RETURN(
          Stmt q, stmts_.Get(db_,
                             "SELECT d.id, d.version, d.caption, d.hashtags, d.context, "
                             "v.text_hash FROM drafts d LEFT JOIN draft_vectors v "
                             "ON v.model_id=?1 AND v.draft_id=d.id "
                             "WHERE v.draft_id IS NULL OR v.draft_version != d.version "
                             "ORDER BY d.id"));
      q.Bind(1, model_id);
      while (static_cast<int>(out.size()) < limit) {
        CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        DraftText t{q.Int(0), q.Int(1),
                    DraftEmbeddingText(q.Text(2), HashtagList(q.Text(3)), q.Text(4))};
        if (!q.IsNull(5)) {
          CAIRN_ASSIGN_OR_RETURN(Bytes h, TextHash(t.text));
          if (h == q.Blob(5)) {
            unchanged.emplace_back(t.draft_id, t.version);
            continue;
          }
        }
        out.push_back(std::move(t));
      }
    }
    for (const auto& [id, version] : unchanged) {
      CAIRN_ASSIGN_OR_RETURN(
          Stmt mark, stmts_.Get(db_, "UPDATE draft_vectors SET draft_version=?1 "
                                     "WHERE model_id=?2 AND draft_id=?3"));
      mark.Bind(1, version).Bind(2, model_id).Bind(3, id);
      CAIRN_RETURN_IF_ERROR(mark.Run());
    }
    return Status::Ok();
  }));
  return out;
}

Status Vault::PutDraftVector(int64_t draft_id, int64_t version, std::string_view model_id,
                             std::span<const float> vector) {
  if (model_id.empty()) return InvalidArgument("embedding model id is empty");
  if (vector.empty() || vector.size() > kMaxDims) {
    return InvalidArgument("draft " + std::to_string(draft_id) + ": a vector of " +
                           std::to_string(vector.size()) + " dimensions (1-" +
                           std::to_string(kMaxDims) + ")");
  }
  for (float x : vector) {
    if (!std::isfinite(x)) {
      return InvalidArgument("draft " + std::to_string(draft_id) +
                             ": the vector has a value that is not a finite number");
    }
  }
  return InTransaction([&]() -> Status {
    Bytes hash;
    {  // the statement is reset before the insert below
      CAIRN_ASSIGN_OR_RETURN(
          Stmt d,
          stmts_.Get(db_, "SELECT version, caption, hashtags, context FROM drafts WHERE id=?"));
      d.Bind(1, draft_id);
      CAIRN_ASSIGN_OR_RETURN(bool row, d.Step());
      if (!row) return NotFound("no draft with id " + std::to_string(draft_id));
      if (d.Int(0) != version) {
        return FailedPrecondition("draft " + std::to_string(draft_id) + " is at version " +
                                  std::to_string(d.Int(0)) + ", the vector is of version " +
                                  std::to_string(version) + ": embed its current text");
      }
      CAIRN_ASSIGN_OR_RETURN(
          hash, TextHash(DraftEmbeddingText(d.Text(1), HashtagList(d.Text(2)), d.Text(3))));
    }
    Bytes blob(vector.size() * sizeof(float));
    std::memcpy(blob.data(), vector.data(), blob.size());  // float32 little-endian (wasm, x86, arm)
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_, "INSERT INTO draft_vectors (draft_id, model_id, draft_version, "
                                "text_hash, dims, vector) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                                "ON CONFLICT(model_id, draft_id) DO UPDATE SET "
                                "draft_version=excluded.draft_version, "
                                "text_hash=excluded.text_hash, dims=excluded.dims, "
                                "vector=excluded.vector"));
    q.Bind(1, draft_id).Bind(2, model_id).Bind(3, version).Bind(4, ByteView(hash));
    q.Bind(5, static_cast<int64_t>(vector.size())).Bind(6, ByteView(blob));
    return q.Run();
  });
}

Result<std::optional<std::vector<float>>> Vault::GetDraftVector(int64_t draft_id,
                                                                std::string_view model_id) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, "SELECT dims, vector FROM draft_vectors "
                              "WHERE model_id=? AND draft_id=?"));
  q.Bind(1, model_id).Bind(2, draft_id);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return std::optional<std::vector<float>>();
  const Bytes blob = q.Blob(1);
  if (static_cast<int64_t>(blob.size()) != q.Int(0) * 4) {
    return Corruption("draft " + std::to_string(draft_id) + ": its vector's size is wrong");
  }
  std::vector<float> v(blob.size() / sizeof(float));
  std::memcpy(v.data(), blob.data(), blob.size());
  return std::optional<std::vector<float>>(std::move(v));
}

Result<std::vector<SearchHit>> Vault::SearchDraftsHybrid(std::string_view query,
                                                         std::span<const float> query_vector,
                                                         std::string_view model_id, int limit) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SearchHit> by_text, SearchDrafts(query, kRankDepth));
  if (query_vector.empty() || model_id.empty()) {
    if (static_cast<int>(by_text.size()) > limit) by_text.resize(std::max(0, limit));
    return by_text;
  }
  // Every vector of this model, compared with the query: a scan, a few ms for thousands of
  // drafts (each row is one 400-byte blob for GloVe's 100 dimensions).
  std::vector<std::vector<float>> vectors;
  std::vector<search::Candidate> candidates;
  {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_, "SELECT draft_id, vector FROM draft_vectors "
                                "WHERE model_id=? AND dims=?"));
    q.Bind(1, model_id).Bind(2, static_cast<int64_t>(query_vector.size()));
    std::vector<int64_t> ids;
    while (true) {
      Result<bool> row = q.Step();
      if (!row.ok()) return Explain(row.status());
      if (!*row) break;
      const Bytes blob = q.Blob(1);
      if (blob.size() != query_vector.size() * sizeof(float)) continue;
      std::vector<float> v(query_vector.size());
      std::memcpy(v.data(), blob.data(), blob.size());
      ids.push_back(q.Int(0));
      vectors.push_back(std::move(v));
    }
    for (size_t i = 0; i < ids.size(); ++i) candidates.push_back({ids[i], vectors[i]});
  }
  const std::vector<search::Scored> by_meaning =
      search::NearestByCosine(query_vector, candidates, kSemanticFloor, kRankDepth);

  std::vector<int64_t> text_ids, meaning_ids;
  for (const SearchHit& h : by_text) text_ids.push_back(h.draft_id);
  for (const search::Scored& s : by_meaning) meaning_ids.push_back(s.id);
  const std::vector<search::Scored> fused = search::FuseReciprocalRank(
      {text_ids, meaning_ids}, static_cast<size_t>(std::max(0, limit)));

  std::vector<SearchHit> out;
  for (const search::Scored& f : fused) {
    const auto t = std::find_if(by_text.begin(), by_text.end(),
                                [&](const SearchHit& h) { return h.draft_id == f.id; });
    const bool meaning = std::find(meaning_ids.begin(), meaning_ids.end(), f.id) != meaning_ids.end();
    SearchHit hit;
    hit.draft_id = f.id;
    hit.score = f.score;
    if (t != by_text.end()) {
      hit.snippet = t->snippet;
      hit.match = meaning ? "both" : "text";
    } else {
      CAIRN_ASSIGN_OR_RETURN(Draft d, GetDraft(f.id));
      hit.snippet = Snippet(d.content.caption);
      hit.match = "meaning";
    }
    out.push_back(std::move(hit));
  }
  return out;
}

}  // namespace cairn::storage
