// Sampling the next token from logits: greedy, temperature, top-k, top-p, repetition penalty,
// an allowed-token mask (constrained decoding), and a seeded generator that gives the same
// tokens for the same seed on every platform (its own PRNG and arithmetic, not <random>'s
// distributions, whose results differ between standard libraries).
#ifndef CAIRN_CORE_GENERATION_SAMPLER_H_
#define CAIRN_CORE_GENERATION_SAMPLER_H_

#include <cstdint>
#include <span>
#include <vector>

namespace cairn::generation {

struct SamplingParams {
  float temperature = 0.8f;  // 0: greedy
  int top_k = 40;            // 0: off
  float top_p = 0.95f;       // 1: off
  float repetition_penalty = 1.1f;  // 1: off; applied to tokens already in the history
  uint64_t seed = 0;
};

// SplitMix64 seeding xoshiro256**: small, fast, the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  double Uniform();  // [0, 1), 53 random bits

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks a token. `logits` (one per vocabulary entry) is modified. `allowed`, if not empty, is
  // a bit mask (bit i: token i may be chosen); `extra_allowed` (e.g. end-of-sequence when the
  // constrained document is complete) is allowed too. Returns -1 if nothing is allowed.
  int32_t Sample(std::span<float> logits, std::span<const uint64_t> allowed,
                 std::span<const int32_t> extra_allowed, std::span<const int32_t> history);

 private:
  SamplingParams params_;
  Rng rng_;
  std::vector<int32_t> candidates_;
  std::vector<float> probs_;
};

}  // namespace cairn::generation

#endif  // CAIRN_CORE_GENERATION_SAMPLER_H_
