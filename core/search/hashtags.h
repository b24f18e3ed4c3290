// Hashtag suggestions from an embedding pack's word vocabulary: the bank is the vocabulary's
// most frequent content words (the vocabulary is in corpus-frequency order), each embedded once
// by the host; a caption's suggestions are the bank words nearest to its vector that it does not
// already use.
//
//   HashtagBank bank(vocab, 5000);                    // candidate ids: bank.ids()
//   bank.SetVectors(host_embeds(bank.ids()), dims);   // one row per id, in order
//   auto tags = bank.Suggest(vocab, caption, caption_vector, 8);   // {"#sunset", 0.71}, ...
//
// Not thread-safe while SetVectors runs; Suggest is const.
#ifndef CAIRN_CORE_SEARCH_HASHTAGS_H_
#define CAIRN_CORE_SEARCH_HASHTAGS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/words.h"

namespace cairn::search {

struct Suggestion {
  std::string hashtag;  // "#" + a vocabulary word
  double score = 0;     // cosine similarity to the text
};

// Below this similarity a word is not offered: GloVe's unrelated words sit around 0.1-0.3.
inline constexpr double kHashtagFloor = 0.3;

class HashtagBank {
 public:
  // The first `max_words` words of `vocab` that are not stopwords, at least 3 characters, with
  // at least one letter (no "2014"): the candidates, in vocabulary order.
  HashtagBank(const tokenizer::WordVocab& vocab, size_t max_words);

  const std::vector<int64_t>& ids() const { return ids_; }
  // The candidates' vectors, ids().size() rows of `dims` floats. kInvalidArgument if the count
  // is wrong.
  Status SetVectors(std::span<const float> vectors, size_t dims);
  bool ready() const { return dims_ > 0; }

  // Up to `limit` bank words nearest to `vector` (the embedding of `text`), best first, leaving
  // out words `text` already has (as words or hashtags). kFailedPrecondition before SetVectors.
  Result<std::vector<Suggestion>> Suggest(const tokenizer::WordVocab& vocab, std::string_view text,
                                          std::span<const float> vector, size_t limit,
                                          double floor = kHashtagFloor) const;

 private:
  std::vector<int64_t> ids_;
  std::vector<float> vectors_;
  size_t dims_ = 0;
};

}  // namespace cairn::search

#endif  // CAIRN_CORE_SEARCH_HASHTAGS_H_
