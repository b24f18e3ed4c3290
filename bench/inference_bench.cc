// Inference: tokens/s of Cairn's engine (OrtDecoder + the generation step machine) against a
// bare ONNX Runtime greedy loop on the same model, and the engine's overhead over it.
//
//   inference_bench PACK_DIR...
//
// Both loops run on the same ONNX Runtime session (one intra-op thread, all graph
// optimizations; the same weights in memory: two sessions of one model differ by up to 10% here
// from memory placement alone), the same prompt, greedy decoding of 128 tokens with the KV
// cache fed back. The bare loop is what a
// careful hand-written host does: ORT's C++ API, present.* moved into past_key_values.*,
// argmax over the last row of the logits. The engine adds what the product needs: the sequence
// abstraction, latency statistics, the sampler (repetition penalty off, as greedy) and UTF-8
// streaming. A third row runs the engine under the captions JSON schema (token masks).
// Prints JSON lines; bench/run.py makes the table.
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto/sign.h"
#include "core/decoding/json_schema.h"
#include "core/engine/caption_engine.h"
#include "core/runtime/ort_decoder.h"
#include "core/runtime/pack_dir.h"

namespace cairn::bench {
namespace {

constexpr int kNewTokens = 128;
constexpr int kRounds = 11;
double g_core_ms = 0;  // time the engine spends in the core's step machine

double NowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "inference_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// The peer: a plain greedy loop on ONNX Runtime's C++ API.
class BareLoop {
 public:
  BareLoop(OrtSession* session, int64_t kv_heads, int64_t head_dim, int layers)
      : session_(session), kv_heads_(kv_heads), head_dim_(head_dim), layers_(layers) {
    in_names_ = {"input_ids", "attention_mask", "position_ids"};
    out_names_ = {"logits"};
    for (int l = 0; l < layers; ++l) {
      for (const char* k : {"key", "value"}) {
        in_names_.push_back("past_key_values." + std::to_string(l) + "." + k);
        out_names_.push_back("present." + std::to_string(l) + "." + k);
      }
    }
    for (auto& n : in_names_) in_ptrs_.push_back(n.c_str());
    for (auto& n : out_names_) out_ptrs_.push_back(n.c_str());
  }

  std::vector<int32_t> Run(const std::vector<int64_t>& prompt, int new_tokens) {
    Ort::AllocatorWithDefaultOptions alloc;
    auto cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> past;
    const int64_t empty[4] = {1, kv_heads_, 0, head_dim_};
    for (int i = 0; i < 2 * layers_; ++i) past.push_back(Ort::Value::CreateTensor<float>(alloc, empty, 4));
    std::vector<int64_t> ids = prompt, mask, pos;
    int64_t past_len = 0;
    std::vector<int32_t> out;
    for (int step = 0; step <= new_tokens; ++step) {
      const int64_t n = static_cast<int64_t>(ids.size());
      mask.assign(static_cast<size_t>(past_len + n), 1);
      pos.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = past_len + i;
      const int64_t s1[2] = {1, n}, s2[2] = {1, past_len + n};
      std::vector<Ort::Value> in;
      in.push_back(Ort::Value::CreateTensor<int64_t>(cpu, ids.data(), ids.size(), s1, 2));
      in.push_back(Ort::Value::CreateTensor<int64_t>(cpu, mask.data(), mask.size(), s2, 2));
      in.push_back(Ort::Value::CreateTensor<int64_t>(cpu, pos.data(), pos.size(), s1, 2));
      for (auto& v : past) in.push_back(std::move(v));
      auto res = session_.Run(Ort::RunOptions{nullptr}, in_ptrs_.data(), in.data(), in.size(),
                              out_ptrs_.data(), out_ptrs_.size());
      const int64_t vocab = res[0].GetTensorTypeAndShapeInfo().GetShape()[2];
      const float* last = res[0].GetTensorData<float>() + (n - 1) * vocab;
      past.clear();
      for (size_t i = 1; i < res.size(); ++i) past.push_back(std::move(res[i]));
      past_len += n;
      if (step == new_tokens) break;
      const int32_t tok = static_cast<int32_t>(std::max_element(last, last + vocab) - last);
      out.push_back(tok);
      ids = {tok};
    }
    return out;
  }

 private:
  Ort::UnownedSession session_;
  int64_t kv_heads_, head_dim_;
  int layers_;
  std::vector<std::string> in_names_, out_names_;
  std::vector<const char*> in_ptrs_, out_ptrs_;
};

std::vector<int32_t> EngineRun(runtime::OrtDecoder& d, const std::vector<int32_t>& prompt,
                               const std::vector<std::string>& token_bytes,
                               const decoding::TokenMasker* masker,
                               const decoding::Schema* schema, int* steps) {
  generation::GenerationConfig cfg;
  cfg.sampling.temperature = 0;
  cfg.sampling.repetition_penalty = 1;
  cfg.max_new_tokens = kNewTokens;
  generation::Generation g(cfg, prompt, &token_bytes, masker, schema);
  auto seq = d.NewSequence().value();
  while (!g.done()) {
    auto logits = seq->Run(g.NextFeeds());
    if (!logits.ok()) Die("engine step", logits.status());
    const double c0 = NowMs();
    auto step = g.Consume(*logits);
    g_core_ms += NowMs() - c0;
    if (!step.ok()) Die("engine consume", step.status());
  }
  *steps = static_cast<int>(g.tokens().size());
  return g.tokens();
}

void Bench(const std::string& dir) {
  // Sign a copy with a throwaway key: the bench loads packs the way the product does.
  const std::string tmp = std::filesystem::temp_directory_path() / ("cairn-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(tmp);
  std::filesystem::copy(dir, tmp, std::filesystem::copy_options::recursive);
  auto kp = crypto::GenerateSigningKeyPair();
  model::TrustStore trust;
  (void)trust.Add(kp.public_key);
  Bytes manifest = runtime::ReadHostFile(tmp + "/manifest.json", 1 << 20).value();
  Bytes sig = crypto::Sign(kp.secret_key.view(), manifest).value();
  {
    std::string sig_json = model::SignatureFileJson(model::TrustStore::KeyId(kp.public_key), sig);
    FILE* f = std::fopen((tmp + "/manifest.sig").c_str(), "w");
    std::fwrite(sig_json.data(), 1, sig_json.size(), f);
    std::fclose(f);
  }
  auto pack = runtime::LoadPackDir(tmp, trust, {}, "native-fp32");
  std::filesystem::remove_all(tmp);
  if (!pack.ok()) Die(dir, pack.status());
  const std::string& id = pack->manifest.id;
  runtime::OrtDecoderOptions opt;
  opt.name = id;
  auto decoder = runtime::OrtDecoder::Load(pack->File("model.onnx"), pack->variant(), opt);
  if (!decoder.ok()) Die(id, decoder.status());
  runtime::OrtDecoder& d = **decoder;

  // The token bytes (specials blank, padded to the model's vocabulary) and the token masker,
  // exactly as the caption engine builds them.
  engine::ModelInfo info{pack->manifest, pack->variant_name, pack->variant_file().blake2b};
  auto model = engine::CaptionModel::Create(info, pack->Text("tokenizer.json"), &d);
  if (!model.ok()) Die(id, model.status());
  const std::vector<std::string>& bytes = model->token_bytes();
  const decoding::TokenMasker& masker = model->masker();
  caption::Constraints c;
  auto schema = decoding::Schema::Parse(engine::CaptionSchemaJson(c)).value();

  std::vector<int32_t> prompt;
  for (int i = 0; i < 48; ++i) prompt.push_back(5 + (i * 7) % 200);
  std::vector<int64_t> prompt64(prompt.begin(), prompt.end());

  // Shapes for the bare loop, from the manifest's past_key_values.0.key spec.
  const auto& past_spec = pack->variant().inputs[3].shape;
  BareLoop bare(d.ort_session(), std::stoll(past_spec[1]), std::stoll(past_spec[3]), d.layers());

  // Rounds alternate the order (ABBA) so neither loop always runs on a warmer cache.
  std::vector<double> bare_ms, engine_ms, json_ms, core_ms;
  int engine_steps = 0, json_steps = 0;
  bool same = true;
  for (int r = 0; r < kRounds + 1; ++r) {  // round 0 warms both
    double tb = 0, te = 0;
    std::vector<int32_t> a, b;
    auto run_bare = [&] {
      const double t = NowMs();
      a = bare.Run(prompt64, kNewTokens);
      tb = NowMs() - t;
    };
    auto run_engine = [&] {
      g_core_ms = 0;
      const double t = NowMs();
      b = EngineRun(d, prompt, bytes, nullptr, nullptr, &engine_steps);
      te = NowMs() - t;
    };
    if (r % 2) {
      run_bare();
      run_engine();
    } else {
      run_engine();
      run_bare();
    }
    const double core = g_core_ms;
    const double t = NowMs();
    EngineRun(d, prompt, bytes, &masker, &schema, &json_steps);
    const double tj = NowMs() - t;
    same = same && a == b;
    if (r == 0) continue;
    bare_ms.push_back(tb);
    engine_ms.push_back(te);
    json_ms.push_back(tj);
    core_ms.push_back(core);
  }
  const double bare_tps = kNewTokens / (Median(bare_ms) / 1000);
  const double engine_tps = engine_steps / (Median(engine_ms) / 1000);
  const double json_tps = json_steps / (Median(json_ms) / 1000);
  // Paired: each round's engine time over the same round's bare time, so a slow phase of the
  // machine (another process) weighs on both sides of a ratio.
  std::vector<double> ratios;
  for (size_t i = 0; i < bare_ms.size(); ++i) ratios.push_back(engine_ms[i] / bare_ms[i]);
  const double overhead = Median(ratios) - 1;
  // The engine's own work per run (sampling, streaming; ONNX Runtime excluded) over the bare
  // loop's time: the overhead without the run-to-run noise of ONNX Runtime itself.
  const double core_share = Median(core_ms) / Median(bare_ms);
  runtime::LatencySummary lat = d.DecodeLatency();
  std::printf(
      "{\"bench\":\"inference\",\"name\":\"%s\",\"vocab\":%d,\"layers\":%d,\"prompt_tokens\":%zu,"
      "\"new_tokens\":%d,\"rounds\":%d,\"bare_tokens_per_s\":%.1f,\"engine_tokens_per_s\":%.1f,"
      "\"engine_json_tokens_per_s\":%.1f,\"json_tokens\":%d,\"engine_overhead\":%.4f,"
      "\"core_share\":%.4f,"
      "\"same_tokens\":%s,\"decode_p50_ms\":%.3f,\"decode_p95_ms\":%.3f,\"warm_up_ms\":%.1f}\n",
      id.c_str(), d.vocab_size(), d.layers(), prompt.size(), kNewTokens, kRounds, bare_tps,
      engine_tps, json_tps, json_steps, overhead, core_share, same ? "true" : "false", lat.p50_ms, lat.p95_ms,
      d.warm_up_ms());
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: inference_bench PACK_DIR...\n");
    return 2;
  }
  cairn::Status s = cairn::runtime::InitOrtApi();
  if (!s.ok()) cairn::bench::Die("ONNX Runtime", s);
  for (int i = 1; i < argc; ++i) cairn::bench::Bench(argv[i]);
  return 0;
}
