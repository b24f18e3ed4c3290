// Ranking for Cairn's semantic search and hashtag suggestions: cosine similarity over unit
// vectors, and reciprocal-rank fusion of several rankings (full text and meaning).
//
//   std::vector<Scored> by_meaning = NearestByCosine(query, candidates, /*floor=*/0.4, 50);
//   std::vector<Scored> fused = FuseReciprocalRank({fts_ids, Ids(by_meaning)}, 20);
//
// Pure functions: no I/O, no allocation beyond the results. Vectors are what an embedding pack
// gives (unit length, or zero for a text with no known word): their dot product is the cosine.
#ifndef CAIRN_CORE_SEARCH_RANK_H_
#define CAIRN_CORE_SEARCH_RANK_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace cairn::search {

struct Scored {
  int64_t id = 0;
  double score = 0;  // higher is better
};

struct Candidate {
  int64_t id = 0;
  std::span<const float> vector;  // the same length as the query; unit length or zero
};

// The dot product of two vectors (0 where the lengths differ: a vector from another model).
double Dot(std::span<const float> a, std::span<const float> b);

// Candidates by cosine similarity to `query`, best first (ties: lower id first), keeping those
// scoring at least `floor`, at most `limit`. A zero query matches nothing.
std::vector<Scored> NearestByCosine(std::span<const float> query,
                                    const std::vector<Candidate>& candidates, double floor,
                                    size_t limit);

// Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): each id scores
// sum over rankings of 1 / (k + rank), rank from 1. It needs no common scale between BM25 and
// cosine, and an id found by both rankings beats one found by only one at a similar rank.
// The score is normalized so that first in every ranking is 1.0. Best first, at most `limit`.
inline constexpr int kRrfK = 60;
std::vector<Scored> FuseReciprocalRank(const std::vector<std::vector<int64_t>>& rankings,
                                       size_t limit, int k = kRrfK);

}  // namespace cairn::search

#endif  // CAIRN_CORE_SEARCH_RANK_H_
