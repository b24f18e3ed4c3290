#include "core/search/hashtags.h"

#include <algorithm>
#include <unordered_set>

#include "core/search/rank.h"

namespace cairn::search {

HashtagBank::HashtagBank(const tokenizer::WordVocab& vocab, size_t max_words) {
  for (int64_t id = 1; static_cast<size_t>(id) < vocab.size() && ids_.size() < max_words; ++id) {
    const std::string_view w = vocab.Word(id);
    if (w.size() < 3 || tokenizer::IsStopword(w)) continue;
    if (std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    ids_.push_back(id);
  }
}

Status HashtagBank::SetVectors(std::span<const float> vectors, size_t dims) {
  if (dims == 0 || vectors.size() != ids_.size() * dims) {
    return Status(StatusCode::kInvalidArgument,
                  "hashtag bank: expected " + std::to_string(ids_.size()) + " vectors of " +
                      std::to_string(dims) + " floats, got " + std::to_string(vectors.size()) +
                      " floats");
  }
  vectors_.assign(vectors.begin(), vectors.end());
  dims_ = dims;
  return Status::Ok();
}

Result<std::vector<Suggestion>> HashtagBank::Suggest(const tokenizer::WordVocab& vocab,
                                                     std::string_view text,
                                                     std::span<const float> vector, size_t limit,
                                                     double floor) const {
  if (!ready()) {
    return Status(StatusCode::kFailedPrecondition, "hashtag bank: no vectors yet");
  }
  if (vector.size() != dims_) {
    return Status(StatusCode::kInvalidArgument,
                  "hashtag bank: the text's vector has " + std::to_string(vector.size()) +
                      " dimensions, the bank " + std::to_string(dims_));
  }
  const std::vector<std::string> have_words = tokenizer::SplitWords(text);
  const std::unordered_set<std::string_view> have(have_words.begin(), have_words.end());
  std::vector<Candidate> candidates;
  candidates.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (have.count(vocab.Word(ids_[i]))) continue;
    candidates.push_back({ids_[i], std::span<const float>(vectors_).subspan(i * dims_, dims_)});
  }
  std::vector<Suggestion> out;
  for (const Scored& s : NearestByCosine(vector, candidates, floor, limit)) {
    out.push_back({"#" + std::string(vocab.Word(s.id)), s.score});
  }
  return out;
}

}  // namespace cairn::search
