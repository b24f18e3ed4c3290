#include "core/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cairn::generation {
namespace {

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = SplitMix(seed);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::Sample(std::span<float> logits, std::span<const uint64_t> allowed,
                        std::span<const int32_t> extra_allowed,
                        std::span<const int32_t> history) {
  const auto vocab = static_cast<int32_t>(logits.size());
  auto is_allowed = [&](int32_t t) {
    if (allowed.empty()) return true;
    const auto u = static_cast<size_t>(t);
    if (u / 64 < allowed.size() && ((allowed[u / 64] >> (u % 64)) & 1)) return true;
    return std::find(extra_allowed.begin(), extra_allowed.end(), t) != extra_allowed.end();
  };
  // Repetition penalty (as in CTRL): divide positive logits, multiply negative ones.
  if (params_.repetition_penalty != 1.0f) {
    for (int32_t t : history) {
      if (t < 0 || t >= vocab) continue;
      float& l = logits[static_cast<size_t>(t)];
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  candidates_.clear();
  for (int32_t t = 0; t < vocab; ++t) {
    if (is_allowed(t) && std::isfinite(logits[static_cast<size_t>(t)])) candidates_.push_back(t);
  }
  if (candidates_.empty()) return -1;
  auto by_logit = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la != lb ? la > lb : a < b;  // ties broken by id, so the order is total
  };
  if (params_.temperature <= 0.0f) {
    return *std::min_element(candidates_.begin(), candidates_.end(), by_logit);
  }
  size_t keep = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(keep),
                      candidates_.end(), by_logit);
    candidates_.resize(keep);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  // Softmax at the temperature, in double for the same result everywhere.
  const double max_logit = logits[static_cast<size_t>(candidates_[0])];
  probs_.resize(candidates_.size());
  double total = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const double p = std::exp((logits[static_cast<size_t>(candidates_[i])] - max_logit) /
                              static_cast<double>(params_.temperature));
    probs_[i] = static_cast<float>(p);
    total += p;
  }
  // Top-p: the smallest prefix (most likely first) whose mass reaches top_p.
  if (params_.top_p < 1.0f) {
    double mass = 0;
    size_t cut = candidates_.size();
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += probs_[i] / total;
      if (mass >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    total = 0;
    for (size_t i = 0; i < cut; ++i) total += probs_[i];
    candidates_.resize(cut);
  }
  double r = rng_.Uniform() * total;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    r -= probs_[i];
    if (r < 0) return candidates_[i];
  }
  return candidates_.back();
}

}  // namespace cairn::generation
