#include "core/search/rank.h"

#include <algorithm>
#include <unordered_map>

namespace cairn::search {
namespace {

void SortBest(std::vector<Scored>* v) {
  std::sort(v->begin(), v->end(), [](const Scored& a, const Scored& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
}

}  // namespace

double Dot(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return 0;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

std::vector<Scored> NearestByCosine(std::span<const float> query,
                                    const std::vector<Candidate>& candidates, double floor,
                                    size_t limit) {
  std::vector<Scored> out;
  if (Dot(query, query) == 0) return out;
  for (const Candidate& c : candidates) {
    if (c.vector.size() != query.size()) continue;
    const double s = Dot(query, c.vector);
    if (s >= floor) out.push_back({c.id, s});
  }
  SortBest(&out);
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::vector<Scored> FuseReciprocalRank(const std::vector<std::vector<int64_t>>& rankings,
                                       size_t limit, int k) {
  std::unordered_map<int64_t, double> sum;
  for (const std::vector<int64_t>& r : rankings) {
    for (size_t i = 0; i < r.size(); ++i) sum[r[i]] += 1.0 / (k + static_cast<double>(i) + 1);
  }
  const double best = rankings.empty() ? 1 : static_cast<double>(rankings.size()) / (k + 1);
  std::vector<Scored> out;
  out.reserve(sum.size());
  for (const auto& [id, s] : sum) out.push_back({id, s / best});
  SortBest(&out);
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace cairn::search
