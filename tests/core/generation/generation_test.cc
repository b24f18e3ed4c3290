#include "core/generation/generation.h"

#include <catch_amalgamated.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace cairn::generation {
namespace {

// Test double for a language model (named as such; the real one runs in ONNX Runtime): logits
// from a deterministic function of the context, so steps are reproducible. It checks that the
// feeds follow the KV-cache protocol.
class FakeModel {
 public:
  explicit FakeModel(size_t vocab, uint64_t salt = 0) : vocab_(vocab), salt_(salt) {}
  std::vector<float> Run(const Feeds& f) {
    REQUIRE(f.past_length == static_cast<int64_t>(context_.size()));
    context_.insert(context_.end(), f.input_ids.begin(), f.input_ids.end());
    std::vector<float> logits(vocab_);
    uint64_t h = salt_ ^ 0x9e3779b97f4a7c15ull;
    for (int64_t t : context_) h = (h ^ static_cast<uint64_t>(t)) * 0x100000001b3ull;
    for (size_t i = 0; i < vocab_; ++i) {
      uint64_t x = (h + i) * 0x9e3779b97f4a7c15ull;
      logits[i] = static_cast<float>((x >> 40) % 1000) / 100.0f;  // 0..10
    }
    return logits;
  }

 private:
  size_t vocab_;
  uint64_t salt_;
  std::vector<int64_t> context_;
};

std::vector<std::string> Vocab() {
  std::vector<std::string> v = {"<eos>", "Hello", " world", "!", " #", "sun", "set", "\n",
                                "END", "E", "ND", "\xE6\x97", "\xA5", "caf", "\xC3\xA9", " ",
                                "{\"", "a", "\":", "\"", "}", "[", "]", ",", "1", "true"};
  for (int b = 32; b < 127; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  return v;
}

struct Run {
  std::vector<int32_t> tokens;
  std::string streamed;
  FinishReason reason;
};

Run Generate(GenerationConfig cfg, const std::vector<std::string>& vocab, uint64_t model_salt = 0,
             const decoding::TokenMasker* masker = nullptr, const decoding::Schema* schema = nullptr) {
  Generation g(cfg, {1, 2}, &vocab, masker, schema);
  FakeModel model(vocab.size(), model_salt);
  Run r;
  while (!g.done()) {
    std::vector<float> logits = model.Run(g.NextFeeds());
    Step s = g.Consume(logits).value();
    r.streamed += s.text;
  }
  r.tokens = g.tokens();
  r.reason = g.finish_reason();
  CHECK(r.streamed == g.text());
  return r;
}

TEST_CASE("the same seed gives the same tokens; different seeds differ") {
  auto vocab = Vocab();
  GenerationConfig cfg;
  cfg.max_new_tokens = 30;
  cfg.sampling.seed = 7;
  Run a = Generate(cfg, vocab), b = Generate(cfg, vocab);
  CHECK(a.tokens == b.tokens);
  CHECK(a.reason == FinishReason::kMaxTokens);
  CHECK(a.tokens.size() == 30);
  cfg.sampling.seed = 8;
  CHECK(Generate(cfg, vocab).tokens != a.tokens);
}

TEST_CASE("greedy picks the highest logit, and top-k 1 equals greedy") {
  Sampler greedy(SamplingParams{0.0f, 0, 1.0f, 1.0f, 0});
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f};
  CHECK(greedy.Sample(logits, {}, {}, {}) == 1);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Sampler k1(SamplingParams{1.5f, 1, 1.0f, 1.0f, seed});
    std::vector<float> l = {0.1f, 3.0f, 2.9f, -1.0f};
    CHECK(k1.Sample(l, {}, {}, {}) == 1);
    Sampler tiny_p(SamplingParams{1.0f, 0, 0.01f, 1.0f, seed});
    std::vector<float> l2 = {0.1f, 3.0f, 2.9f, -1.0f};
    CHECK(tiny_p.Sample(l2, {}, {}, {}) == 1);
  }
}

TEST_CASE("temperature sampling follows the softmax distribution") {
  // logits ln(1), ln(2), ln(7): probabilities 0.1, 0.2, 0.7 at temperature 1.
  Sampler s(SamplingParams{1.0f, 0, 1.0f, 1.0f, 99});
  std::map<int, int> counts;
  for (int i = 0; i < 20000; ++i) {
    std::vector<float> l = {std::log(1.0f), std::log(2.0f), std::log(7.0f)};
    ++counts[s.Sample(l, {}, {}, {})];
  }
  CHECK(std::abs(counts[0] / 20000.0 - 0.1) < 0.015);
  CHECK(std::abs(counts[1] / 20000.0 - 0.2) < 0.015);
  CHECK(std::abs(counts[2] / 20000.0 - 0.7) < 0.015);
}

TEST_CASE("repetition penalty and the allowed mask steer the choice") {
  Sampler s(SamplingParams{0.0f, 0, 1.0f, 2.0f, 0});
  std::vector<float> l = {4.0f, 3.0f, 1.0f};
  std::vector<int32_t> history = {0};
  CHECK(s.Sample(l, {}, {}, history) == 1);  // 4 / 2 = 2 < 3
  std::vector<uint64_t> mask = {0b100};
  std::vector<float> l2 = {4.0f, 3.0f, 1.0f};
  CHECK(s.Sample(l2, mask, {}, {}) == 2);
  std::vector<uint64_t> none = {0};
  std::vector<float> l3 = {4.0f, 3.0f, 1.0f};
  std::vector<int32_t> extra = {1};
  CHECK(s.Sample(l3, none, extra, {}) == 1);
  std::vector<float> l4 = {4.0f, 3.0f, 1.0f};
  CHECK(s.Sample(l4, none, {}, {}) == -1);
}

TEST_CASE("stop sequences end generation and are never streamed, even across tokens") {
  auto vocab = Vocab();
  int stopped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 60;
    cfg.sampling = SamplingParams{1.0f, 0, 1.0f, 1.0f, seed};
    cfg.stop_sequences = {"END", "!\n"};
    Run r = Generate(cfg, vocab, seed);
    CHECK(r.streamed.find("END") == std::string::npos);
    CHECK(r.streamed.find("!\n") == std::string::npos);
    if (r.reason == FinishReason::kStop) ++stopped;
  }
  CHECK(stopped > 10);
}

TEST_CASE("streamed text never contains half a UTF-8 character") {
  auto vocab = Vocab();
  for (uint64_t seed = 0; seed < 100; ++seed) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 40;
    cfg.sampling = SamplingParams{1.0f, 0, 1.0f, 1.0f, seed};
    Generation g(cfg, {1}, &vocab);
    FakeModel model(vocab.size(), seed);
    while (!g.done()) {
      std::vector<float> logits = model.Run(g.NextFeeds());
      Step s = g.Consume(logits).value();
      // Each streamed piece is valid UTF-8 on its own (dump() throws on invalid UTF-8).
      CHECK_NOTHROW(nlohmann::json(s.text).dump());
    }
  }
}

TEST_CASE("EOS, cancellation and bad logits end generation cleanly") {
  auto vocab = Vocab();
  GenerationConfig cfg;
  cfg.eos_ids = {0};
  cfg.max_new_tokens = 100;
  cfg.sampling.temperature = 0;
  Generation g(cfg, {1}, &vocab);
  std::vector<float> logits(vocab.size(), 0.0f);
  logits[0] = 5;  // EOS most likely
  Step s = g.Consume(logits).value();
  CHECK(s.finished == FinishReason::kEos);
  CHECK(g.Consume(logits).status().code() == StatusCode::kFailedPrecondition);

  Generation c(cfg, {1}, &vocab);
  c.Cancel();
  CHECK(c.Consume(logits).value().finished == FinishReason::kCancelled);

  Generation bad(cfg, {1}, &vocab);
  std::vector<float> short_logits(3);
  CHECK(bad.Consume(short_logits).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("with a schema, every generation is valid JSON that ends itself") {
  auto vocab = Vocab();
  auto schema = decoding::Schema::Parse(
      R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string","maxLength":12},
          "minItems":1,"maxItems":2}},"required":["a"]})").value();
  auto masker = decoding::TokenMasker::Build(vocab);
  for (uint64_t seed = 0; seed < 60; ++seed) {
    GenerationConfig cfg;
    cfg.eos_ids = {0};
    cfg.max_new_tokens = 400;
    cfg.sampling = SamplingParams{1.0f, 0, 1.0f, 1.0f, seed};
    Run r = Generate(cfg, vocab, seed, &masker, &schema);
    INFO(r.streamed);
    CHECK(r.reason == FinishReason::kEos);
    nlohmann::json j = nlohmann::json::parse(r.streamed);
    CHECK(j["a"].size() >= 1);
  }
}

}  // namespace
}  // namespace cairn::generation
