// The native host on the tiny test models: Optimum layout, KV cache, errors as Status.
#include "core/runtime/ort_decoder.h"

#include <catch_amalgamated.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/crypto/hash.h"
#include "core/runtime/pack_dir.h"
#include "tests/support/test_packs.h"

namespace cairn::runtime {
namespace {

using testing::MakeSignedPack;
using testing::TempDir;

struct Loaded {
  LoadedPack pack;
  std::unique_ptr<OrtDecoder> decoder;
};

Loaded Load(const TempDir& dir, const std::string& name) {
  auto sp = MakeSignedPack(dir, name);
  Loaded l;
  l.pack = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").value();
  OrtDecoderOptions o;
  o.name = l.pack.manifest.id;
  l.decoder = OrtDecoder::Load(l.pack.File(l.pack.variant().file), l.pack.variant(), o).value();
  return l;
}

int32_t Argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The prompt the recipe checks the models with (models/recipe/ort_check.py): it guarantees
// greedy decoding from it is not degenerate.
const std::vector<int64_t> kPrompt = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// Greedy decoding, feeding one token at a time after the prompt through the KV cache.
std::vector<int32_t> GreedyCached(OrtDecoder& d, int steps) {
  auto seq = d.NewSequence().value();
  std::span<float> logits = seq->Run({kPrompt, 0}).value();
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    out.push_back(Argmax(logits));
    const int64_t past = seq->past_length();
    logits = seq->Run({{out.back()}, past}).value();
  }
  return out;
}

// Greedy decoding that re-runs the whole sequence every step, without a cache.
std::vector<int32_t> GreedyUncached(OrtDecoder& d, int steps) {
  std::vector<int64_t> ids = kPrompt;
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    auto seq = d.NewSequence().value();
    out.push_back(Argmax(seq->Run({ids, 0}).value()));
    ids.push_back(out.back());
  }
  return out;
}

TEST_CASE("both test models load in the Optimum layout, warmed") {
  for (const char* name : {"tiny-gpt2", "tiny-llama"}) {
    DYNAMIC_SECTION(name) {
      TempDir dir;
      Loaded l = Load(dir, name);
      CHECK(l.decoder->layers() == 2);
      CHECK(l.decoder->has_position_ids());
      CHECK(l.decoder->vocab_size() > 300);
      CHECK(l.decoder->warm_up_ms() > 0);
      CHECK(l.decoder->backend() == "ort-native-cpu");
      CHECK(l.decoder->DecodeLatency().total_count == 0);  // the warm-up is not counted
    }
  }
}

TEST_CASE("decoding with the KV cache gives the same tokens as without it") {
  for (const char* name : {"tiny-gpt2", "tiny-llama"}) {
    DYNAMIC_SECTION(name) {
      TempDir dir;
      Loaded l = Load(dir, name);
      const std::vector<int32_t> cached = GreedyCached(*l.decoder, 24);
      const std::vector<int32_t> uncached = GreedyUncached(*l.decoder, 24);
      CHECK(cached == uncached);
      // Not a degenerate model: it does not just repeat one token.
      CHECK(std::set<int32_t>(cached.begin(), cached.end()).size() > 6);
      LatencySummary s = l.decoder->DecodeLatency();
      CHECK(s.total_count == 24);
      CHECK(s.p50_ms > 0);
      CHECK(s.p95_ms >= s.p50_ms);
      CHECK(l.decoder->PrefillLatency().total_count == 1 + 24);
    }
  }
}

TEST_CASE("a forked sequence continues exactly like the original") {
  TempDir dir;
  Loaded l = Load(dir, "tiny-llama");
  auto a = l.decoder->NewSequence().value();
  const int32_t first = Argmax(a->Run({kPrompt, 0}).value());
  auto b = a->Fork().value();
  CHECK(b->past_length() == a->past_length());
  auto continue_greedy = [&](DecoderSequence& s) {
    std::vector<int32_t> out = {first};
    for (int i = 0; i < 12; ++i) {
      out.push_back(Argmax(s.Run({{out.back()}, s.past_length()}).value()));
    }
    return out;
  };
  const std::vector<int32_t> from_a = continue_greedy(*a);  // a runs on first; b's copy is its own
  const std::vector<int32_t> from_b = continue_greedy(*b);
  CHECK(from_a == from_b);
}

TEST_CASE("feeds that disagree with the sequence's cache are refused") {
  TempDir dir;
  Loaded l = Load(dir, "tiny-gpt2");
  auto seq = l.decoder->NewSequence().value();
  CHECK(seq->Run({{1, 2}, 3}).status().code() == StatusCode::kFailedPrecondition);
  CHECK(seq->Run({{}, 0}).status().code() == StatusCode::kInvalidArgument);
  REQUIRE(seq->Run({{1, 2}, 0}).ok());
  CHECK(seq->Run({{3}, 0}).status().code() == StatusCode::kFailedPrecondition);
  CHECK(seq->Run({{3}, 2}).ok());
}

TEST_CASE("ONNX Runtime errors become a Status naming the model, never a crash") {
  TempDir dir;
  Loaded l = Load(dir, "tiny-gpt2");
  // A position beyond the GPT-2 model's 1024 learned positions: ONNX Runtime throws inside.
  auto seq = l.decoder->NewSequence().value();
  std::vector<int64_t> long_prompt(1030, 5);
  Status s = seq->Run({long_prompt, 0}).status();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("cairn-test-tiny-gpt2"));
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("ONNX Runtime"));
  // The decoder itself is still fine for other sequences.
  CHECK(l.decoder->NewSequence().value()->Run({kPrompt, 0}).ok());

  const model::Variant& v = l.pack.variant();
  const std::string junk = "this is not an ONNX model";
  Status bad = OrtDecoder::Load(AsBytes(junk), v).status();
  CHECK_FALSE(bad.ok());
  CHECK_THAT(bad.message(), Catch::Matchers::ContainsSubstring("model.onnx"));
}

TEST_CASE("a pack is verified before anything of it is loaded") {
  TempDir dir;
  SECTION("one flipped byte in the model") {
    auto sp = MakeSignedPack(dir, "tiny-llama");
    Bytes model = testing::ReadFileBytes(sp.dir + "/model.onnx");
    model[model.size() / 2] ^= 0x40;
    testing::WriteFileText(sp.dir + "/model.onnx", AsChars(model));
    Status s = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").status();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("model.onnx"));
  }
  SECTION("a truncated tokenizer") {
    auto sp = MakeSignedPack(dir, "tiny-gpt2");
    std::filesystem::resize_file(sp.dir + "/tokenizer.json", 100);
    Status s = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").status();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("tokenizer.json"));
  }
  SECTION("an unknown signer") {
    auto sp = MakeSignedPack(dir, "tiny-gpt2");
    model::TrustStore other;
    REQUIRE(other.Add(crypto::GenerateSigningKeyPair().public_key).ok());
    CHECK(LoadPackDir(sp.dir, other, {}, "native-fp32").status().code() ==
          StatusCode::kAuthFailed);
  }
  SECTION("a missing file, a missing variant") {
    auto sp = MakeSignedPack(dir, "tiny-gpt2");
    CHECK(LoadPackDir(sp.dir, sp.trust, {}, "webgpu-fp16").status().code() ==
          StatusCode::kNotFound);
    std::filesystem::remove(sp.dir + "/model.onnx");
    Status s = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").status();
    CHECK(s.code() == StatusCode::kNotFound);
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("model.onnx"));
  }
}

TEST_CASE("the model's inputs must be the ones its manifest lists") {
  TempDir dir;
  Loaded l = Load(dir, "tiny-gpt2");
  model::Variant v = l.pack.variant();
  v.inputs.push_back({"token_type_ids", "int64", {"batch_size", "sequence_length"}});
  Status s = OrtDecoder::Load(l.pack.File(v.file), v).status();
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("token_type_ids"));
}

}  // namespace
}  // namespace cairn::runtime
