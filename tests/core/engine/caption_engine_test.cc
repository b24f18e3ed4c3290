// Captions end to end on both tiny test models and the native host: prompt, constrained
// decoding, parsing, provenance.
#include "core/engine/caption_engine.h"

#include <catch_amalgamated.hpp>

#include <nlohmann/json.hpp>

#include "core/runtime/ort_decoder.h"
#include "core/runtime/pack_dir.h"
#include "tests/support/test_packs.h"

namespace cairn::engine {
namespace {

using testing::TempDir;

struct Engine {
  runtime::LoadedPack pack;
  std::unique_ptr<runtime::OrtDecoder> decoder;
  std::optional<CaptionModel> model;
};

std::unique_ptr<Engine> Load(const TempDir& dir, const std::string& name) {
  auto sp = testing::MakeSignedPack(dir, name);
  auto e = std::make_unique<Engine>();
  e->pack = runtime::LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").value();
  e->decoder = runtime::OrtDecoder::Load(e->pack.File("model.onnx"), e->pack.variant()).value();
  ModelInfo info{e->pack.manifest, "native-fp32", e->pack.variant_file().blake2b, "device"};
  e->model = CaptionModel::Create(info, e->pack.Text("tokenizer.json"), e->decoder.get()).value();
  return e;
}

CaptionRequest Request(int count, const std::string& preset, uint64_t seed) {
  CaptionRequest r;
  r.prompt = {"Write " + std::to_string(count) + " Instagram captions",
              "photo: pier at sunset; tags: sea, sky, summer", "warm, short", ""};
  r.constraints.count = count;
  r.constraints.max_chars = 24;
  r.preset = preset;
  r.seed = seed;
  r.max_new_tokens = 400;
  return r;
}

TEST_CASE("constrained captions always parse, on both test models and every preset") {
  for (const char* name : {"tiny-gpt2", "tiny-llama"}) {
    DYNAMIC_SECTION(name) {
      TempDir dir;
      auto e = Load(dir, name);
      for (const char* preset : {"low", "preview", "final"}) {
        for (uint64_t seed : {1u, 2u, 3u}) {
          INFO(preset << " seed " << seed);
          std::string streamed;
          GenerateOptions opt;
          opt.on_text = [&](std::string_view t) { streamed += t; };
          CaptionResult r = GenerateCaptions(*e->model, Request(3, preset, seed), opt).value();
          INFO(r.raw_output);
          // The output is a JSON document of exactly the schema, whatever the random weights.
          nlohmann::json doc = nlohmann::json::parse(r.raw_output);
          REQUIRE(doc["captions"].size() == 3);
          CHECK(r.finish == generation::FinishReason::kEos);
          CHECK(r.captions.size() == 3);
          CHECK(r.problems.empty());
          for (const auto& c : r.captions) CHECK(caption::CountCodePoints(c.text) <= 24);
          CHECK(streamed == r.raw_output);
          CHECK(r.prompt_tokens > 20);
          CHECK(r.generated_tokens > 6);
          CHECK(r.provenance.model_id == e->pack.manifest.id);
          CHECK(r.provenance.model_version == "1.0.0");
          CHECK(r.provenance.model_checksum == e->pack.variant_file().blake2b);
          CHECK(r.provenance.quantization == "fp32");
          CHECK(r.provenance.backend == "ort-native-cpu");
          CHECK(r.provenance.tier == "device");
          CHECK(r.provenance.preset == preset);
          CHECK(r.provenance.prompt_schema == prompt::kPromptSchemaVersion);
          CHECK(r.provenance.seed == seed);
        }
      }
    }
  }
}

TEST_CASE("the same seed gives the same captions; greedy ignores the seed") {
  TempDir dir;
  auto e = Load(dir, "tiny-llama");
  auto run = [&](const std::string& preset, uint64_t seed) {
    return GenerateCaptions(*e->model, Request(2, preset, seed)).value().raw_output;
  };
  CHECK(run("preview", 7) == run("preview", 7));
  CHECK(run("low", 1) == run("low", 2));
  // Different seeds sample differently (over a few tries, to not hinge on one draw).
  bool differs = false;
  for (uint64_t s = 8; s < 12 && !differs; ++s) differs = run("final", 7) != run("final", s);
  CHECK(differs);
}

TEST_CASE("special tokens can never be sampled inside a caption") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  const auto& tok = e->model->tokenizer();
  for (const char* special : {"<|im_start|>", "<|im_end|>", "<|endoftext|>"}) {
    const int32_t id = tok.TokenToId(special).value();
    CHECK(e->model->token_bytes()[static_cast<size_t>(id)].empty());
  }
  CHECK(e->model->eos_ids().size() == 2);
}

TEST_CASE("cancelling stops generation with kCancelled") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  std::atomic<bool> cancel{false};
  int pieces = 0;
  GenerateOptions opt;
  opt.cancel = &cancel;
  opt.on_text = [&](std::string_view) {
    if (++pieces == 3) cancel = true;
  };
  Status s = GenerateCaptions(*e->model, Request(3, "preview", 1), opt).status();
  CHECK(s.code() == StatusCode::kCancelled);
  CHECK(pieces == 3);
}

TEST_CASE("running out of tokens mid-document is reported, not shown as captions") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  CaptionRequest r = Request(3, "low", 0);
  r.max_new_tokens = 5;
  CaptionResult out = GenerateCaptions(*e->model, r).value();
  CHECK(out.finish == generation::FinishReason::kMaxTokens);
  CHECK(out.captions.empty());
  REQUIRE(out.problems.size() == 1);
  CHECK_THAT(out.problems[0], Catch::Matchers::ContainsSubstring("not a complete caption list"));
}

// Test double, named as such: a runtime that "says" a scripted text by giving its next token a
// high logit. A random-weight model cannot be made to write a slur; this provokes the path from
// the model's output through parsing to the safety verdict. Everything else is real.
class ScriptedDecoder final : public runtime::DecoderRuntime {
 public:
  ScriptedDecoder(std::vector<int32_t> script, int vocab) : script_(std::move(script)), vocab_(vocab) {}
  Result<std::unique_ptr<runtime::DecoderSequence>> NewSequence() override {
    return std::unique_ptr<runtime::DecoderSequence>(new Sequence(this));
  }
  int vocab_size() const override { return vocab_; }
  std::string backend() const override { return "test-double-scripted"; }

 private:
  class Sequence final : public runtime::DecoderSequence {
   public:
    explicit Sequence(const ScriptedDecoder* d) : d_(d), logits_(static_cast<size_t>(d->vocab_)) {}
    Result<std::span<float>> Run(const generation::Feeds& f) override {
      past_ = f.past_length + static_cast<int64_t>(f.input_ids.size());
      std::fill(logits_.begin(), logits_.end(), 0.0f);
      const size_t next = step_++;
      if (next < d_->script_.size()) logits_[static_cast<size_t>(d_->script_[next])] = 20.0f;
      return std::span<float>(logits_);
    }
    Result<std::unique_ptr<runtime::DecoderSequence>> Fork() const override {
      return Status(StatusCode::kUnsupported, "not needed");
    }
    int64_t past_length() const override { return past_; }

   private:
    const ScriptedDecoder* d_;
    std::vector<float> logits_;
    size_t step_ = 0;
    int64_t past_ = 0;
  };
  std::vector<int32_t> script_;
  int vocab_;
};

TEST_CASE("captions the safety filter flags keep their text and say why") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  const std::string said =
      R"({"captions":["what the fuck","sunset vibes","n1gg3r"]})";
  std::vector<int32_t> script = e->model->tokenizer().Encode(said, false).value();
  script.push_back(e->model->tokenizer().TokenToId("<|im_end|>").value());
  ScriptedDecoder scripted(script, e->decoder->vocab_size());
  ModelInfo info{e->pack.manifest, "native-fp32", "checksum", "device"};
  CaptionModel m =
      CaptionModel::Create(info, e->pack.Text("tokenizer.json"), &scripted).value();
  CaptionRequest r = Request(3, "low", 0);
  r.constraints.max_chars = 40;
  CaptionResult out = GenerateCaptions(m, r).value();
  REQUIRE(out.raw_output == said);
  REQUIRE(out.captions.size() == 3);
  CHECK(out.captions[0].text == "what the fuck");  // flagged, never dropped or rewritten
  CHECK(out.captions[0].safety.level == safety::Level::kBlocked);
  REQUIRE_FALSE(out.captions[0].safety.findings.empty());
  CHECK_THAT(out.captions[0].safety.findings[0].reason,
             Catch::Matchers::ContainsSubstring("fuck"));
  CHECK_FALSE(out.captions[0].ok());
  CHECK(out.captions[1].safety.clean());
  CHECK(out.captions[1].ok());
  CHECK(out.captions[2].safety.level != safety::Level::kClean);
  CHECK(out.provenance.backend == "test-double-scripted");
}

TEST_CASE("bad requests are refused with the reason") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  CaptionRequest r = Request(0, "low", 0);
  CHECK_THAT(GenerateCaptions(*e->model, r).status().message(),
             Catch::Matchers::ContainsSubstring("count"));
  r = Request(3, "turbo", 0);
  CHECK_THAT(GenerateCaptions(*e->model, r).status().message(),
             Catch::Matchers::ContainsSubstring("preset"));
}

}  // namespace
}  // namespace cairn::engine

namespace cairn::engine {
namespace {

TEST_CASE("a host-driven CaptionSession gives exactly what GenerateCaptions gives") {
  TempDir dir;
  auto e = Load(dir, "tiny-llama");
  // The browser's shape: a model without a runtime; the host runs each step itself.
  ModelInfo info = e->model->info();
  CaptionModel hosted = CaptionModel::CreateForHost(info, e->pack.Text("tokenizer.json"),
                                                    e->decoder->vocab_size())
                            .value();
  CHECK(hosted.runtime() == nullptr);
  for (const char* preset : {"low", "final"}) {
    INFO(preset);
    const CaptionRequest req = Request(2, preset, 7);
    CaptionResult direct = GenerateCaptions(*e->model, req).value();

    auto session = CaptionSession::Start(hosted, req).value();
    auto seq = e->decoder->NewSequence().value();
    std::string streamed;
    int steps = 0;
    while (!session->done()) {
      std::span<float> logits = seq->Run(session->NextFeeds()).value();
      streamed += session->Consume(logits).value();
      ++steps;
    }
    CaptionResult stepped = session->Finish("test-host").value();
    CHECK(stepped.raw_output == direct.raw_output);
    CHECK(streamed == direct.raw_output);
    CHECK(steps >= stepped.generated_tokens);
    CHECK(stepped.generated_tokens == direct.generated_tokens);
    CHECK(stepped.finish == direct.finish);
    REQUIRE(stepped.captions.size() == direct.captions.size());
    for (size_t i = 0; i < direct.captions.size(); ++i) {
      CHECK(stepped.captions[i].text == direct.captions[i].text);
    }
    CHECK(stepped.provenance.backend == "test-host");
    CHECK(stepped.provenance.model_checksum == direct.provenance.model_checksum);
    CHECK(stepped.provenance.preset == preset);
  }
}

TEST_CASE("a CaptionSession refuses to finish early, and a hosted model cannot run itself") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  CaptionModel hosted = CaptionModel::CreateForHost(e->model->info(),
                                                    e->pack.Text("tokenizer.json"),
                                                    e->decoder->vocab_size())
                            .value();
  auto session = CaptionSession::Start(hosted, Request(1, "low", 0)).value();
  CHECK(session->Finish("x").status().code() == StatusCode::kFailedPrecondition);
  session->Cancel();
  auto seq = e->decoder->NewSequence().value();
  while (!session->done()) (void)session->Consume(seq->Run(session->NextFeeds()).value()).value();
  CHECK(session->Finish("x").status().code() == StatusCode::kCancelled);

  auto r = GenerateCaptions(hosted, Request(1, "low", 0));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(CaptionModel::CreateForHost(e->model->info(), e->pack.Text("tokenizer.json"), 0)
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(CaptionSession::Start(hosted, Request(0, "low", 0)).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::engine

namespace cairn::engine {
namespace {

// Regression (found by the render workers): a request whose token budget reached past tiny-gpt2's
// 1024 learned positions failed inside ONNX Runtime ("Gather ... idx=1024"). The manifest's
// context_length now bounds generation.
TEST_CASE("generation stops at the model's context length instead of failing in the runtime") {
  TempDir dir;
  auto e = Load(dir, "tiny-gpt2");
  REQUIRE(e->model->info().manifest.context_length == 1024);
  CaptionRequest req = Request(10, "final", 5);
  req.constraints.max_chars = 200;  // 16 + 10 x 208 tokens at most: past the 1024 positions
  req.max_new_tokens = 0;
  CaptionResult r = GenerateCaptions(*e->model, req).value();
  CHECK(r.prompt_tokens + r.generated_tokens <= 1024);

  // A prompt that fills the context is refused, saying so.
  CaptionRequest huge = Request(1, "low", 0);
  for (int i = 0; i < 3000; ++i) huge.prompt.context += "x" + std::to_string(i * 7919 % 100000) + " ";
  huge.max_prompt_tokens = 4000;
  auto refused = GenerateCaptions(*e->model, huge);
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("context of 1024 tokens") != std::string::npos);
}

}  // namespace
}  // namespace cairn::engine
