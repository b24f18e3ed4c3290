// The C ABI: text embedding driven by the host (word ids from the pack's vocabulary, hashtag
// suggestions), draft vectors and search fused from full text and meaning.
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "api/api_internal.h"
#include "core/search/hashtags.h"
#include "core/tokenizer/words.h"

struct cairn_word_vocab {
  cairn::tokenizer::WordVocab vocab;
  std::optional<cairn::search::HashtagBank> bank;
};

namespace cairn::api {
namespace {

using nlohmann::json;

// Hands `ids` to the caller as a malloc'd int32 array (cairn_free).
Status TakeIds(const std::vector<int64_t>& ids, int32_t** out_ids, size_t* out_count) {
  CAIRN_RETURN_IF_ERROR(Need(out_ids, "out_ids"));
  CAIRN_RETURN_IF_ERROR(Need(out_count, "out_count"));
  auto* p = static_cast<int32_t*>(std::malloc(std::max<size_t>(1, ids.size()) * sizeof(int32_t)));
  if (p == nullptr) return Status(StatusCode::kResourceExhausted, "out of memory");
  for (size_t i = 0; i < ids.size(); ++i) p[i] = static_cast<int32_t>(ids[i]);
  *out_ids = p;
  *out_count = ids.size();
  return Status::Ok();
}

Result<std::span<const float>> Floats(const float* v, size_t dims, const char* what) {
  if (dims == 0) return std::span<const float>();
  CAIRN_RETURN_IF_ERROR(Need(v, what));
  return std::span<const float>(v, dims);
}

}  // namespace
}  // namespace cairn::api

using namespace cairn;       // NOLINT: the ABI's definitions below
using namespace cairn::api;  // NOLINT

extern "C" {

int cairn_word_vocab_open(cairn_vault* vault, const cairn_pack* pack, cairn_word_vocab** out) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(pack, "pack"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    const model::Manifest& m = pack->manifest;
    if (m.text_vocab.empty()) {
      return InvalidArgument("model " + m.id + " has no word vocabulary (its manifest's text)");
    }
    if (m.text_rule != tokenizer::kWordsRule) {
      return Status(StatusCode::kUnsupported, "model " + m.id + " splits text by rule '" +
                                                  m.text_rule + "'; this Cairn knows " +
                                                  tokenizer::kWordsRule);
    }
    uint8_t* data = nullptr;
    size_t size = 0;
    // Verified against the signed manifest as it is read (cairn_pack_read_file).
    if (int rc = cairn_pack_read_file(vault, pack, m.text_vocab.c_str(), &data, &size)) {
      return Status(static_cast<StatusCode>(rc), cairn_last_error_message());
    }
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::free(data);
    Result<tokenizer::WordVocab> vocab = tokenizer::WordVocab::Parse(text);
    if (!vocab.ok()) return vocab.status().WithContext("model " + m.id + " " + m.text_vocab);
    *out = new cairn_word_vocab{std::move(*vocab), std::nullopt};
    return Status::Ok();
  });
}

void cairn_word_vocab_close(cairn_word_vocab* vocab) { delete vocab; }

int cairn_word_vocab_encode(const cairn_word_vocab* vocab, const char* text, int32_t** out_ids,
                            size_t* out_count) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vocab, "vocab"));
    CAIRN_RETURN_IF_ERROR(Need(text, "text"));
    return TakeIds(vocab->vocab.EncodeContent(text), out_ids, out_count);
  });
}

int cairn_hashtag_bank_ids(cairn_word_vocab* vocab, size_t max_words, int32_t** out_ids,
                           size_t* out_count) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vocab, "vocab"));
    vocab->bank.emplace(vocab->vocab, max_words);
    return TakeIds(vocab->bank->ids(), out_ids, out_count);
  });
}

int cairn_hashtag_bank_set_vectors(cairn_word_vocab* vocab, const float* vectors, size_t count,
                                   size_t dims) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vocab, "vocab"));
    if (!vocab->bank) {
      return FailedPrecondition("hashtag bank: ask for its ids (cairn_hashtag_bank_ids) first");
    }
    if (count != vocab->bank->ids().size()) {
      return InvalidArgument("hashtag bank: " + std::to_string(count) + " vectors for " +
                             std::to_string(vocab->bank->ids().size()) + " words");
    }
    CAIRN_ASSIGN_OR_RETURN(std::span<const float> v, Floats(vectors, count * dims, "vectors"));
    return vocab->bank->SetVectors(v, dims);
  });
}

int cairn_hashtags_suggest(const cairn_word_vocab* vocab, const char* text, const float* vector,
                           size_t dims, int limit, char** out_suggestions) {
  return ReturnJson(out_suggestions, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vocab, "vocab"));
    CAIRN_RETURN_IF_ERROR(Need(text, "text"));
    if (!vocab->bank) return FailedPrecondition("hashtag bank: not built yet");
    CAIRN_ASSIGN_OR_RETURN(std::span<const float> v, Floats(vector, dims, "vector"));
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<search::Suggestion> got,
        vocab->bank->Suggest(vocab->vocab, text, v, static_cast<size_t>(std::max(0, limit))));
    json out = json::array();
    for (const search::Suggestion& s : got) {
      out.push_back({{"hashtag", s.hashtag}, {"score", s.score}});
    }
    return out;
  });
}

int cairn_draft_vectors_pending(cairn_vault* vault, const char* model_id, int limit,
                                char** out_pending) {
  return ReturnJson(out_pending, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(model_id, "model_id"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::DraftText> pending,
                           vault->vault->DraftsToEmbed(model_id, limit));
    json out = json::array();
    for (const storage::DraftText& d : pending) {
      out.push_back({{"draft_id", d.draft_id}, {"version", d.version}, {"text", d.text}});
    }
    return out;
  });
}

int cairn_draft_vector_put(cairn_vault* vault, int64_t draft_id, int64_t version,
                           const char* model_id, const float* vector, size_t dims) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(model_id, "model_id"));
    CAIRN_ASSIGN_OR_RETURN(std::span<const float> v, Floats(vector, dims, "vector"));
    return vault->vault->PutDraftVector(draft_id, version, model_id, v);
  });
}

int cairn_drafts_search_hybrid(cairn_vault* vault, const char* query, const char* model_id,
                               const float* vector, size_t dims, int limit, char** out_hits) {
  return ReturnJson(out_hits, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(query, "query"));
    CAIRN_ASSIGN_OR_RETURN(std::span<const float> v, Floats(vector, dims, "vector"));
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<storage::SearchHit> hits,
        vault->vault->SearchDraftsHybrid(query, v, model_id ? model_id : "", limit));
    json out = json::array();
    for (const storage::SearchHit& h : hits) {
      out.push_back({{"draft_id", h.draft_id},
                     {"score", h.score},
                     {"snippet", h.snippet},
                     {"match", h.match}});
    }
    return out;
  });
}

}  // extern "C"
