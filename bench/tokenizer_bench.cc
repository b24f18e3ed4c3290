// Tokenizer throughput: encode the conformance corpus (tests/data/tokenizer_corpus.json, every
// string encoded separately, as prompts are) with Cairn's tokenizer; tokenizer_bench.mjs does
// the same with the JavaScript peers. usage: tokenizer_bench CORPUS_JSON NAME=TOKENIZER_JSON...
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tokenizer_bench CORPUS_JSON NAME=TOKENIZER_JSON...\n");
    return 2;
  }
  std::vector<std::string> corpus;
  size_t corpus_bytes = 0;
  for (const auto& s : nlohmann::json::parse(ReadFile(argv[1]))) {
    corpus.push_back(s.get<std::string>());
    corpus_bytes += corpus.back().size();
  }
  for (int a = 2; a < argc; ++a) {
    const std::string spec = argv[a];
    const std::string name = spec.substr(0, spec.find('='));
    auto tok = cairn::Tokenizer::FromJson(ReadFile(spec.substr(spec.find('=') + 1)));
    if (!tok.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), tok.status().ToString().c_str());
      return 1;
    }
    for (const auto& s : corpus) (void)tok->Encode(s, false);  // warm-up
    size_t rounds = 0, tokens = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double secs = 0;
    do {
      for (const auto& s : corpus) tokens += tok->Encode(s, false).value().size();
      ++rounds;
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (secs < 1.0);
    std::printf("{\"bench\":\"tokenizer\",\"name\":\"%s\",\"impl\":\"cairn\",\"mb_per_s\":%.3f,"
                "\"tokens_per_s\":%.0f}\n",
                name.c_str(), rounds * corpus_bytes / secs / 1e6, tokens / secs);
    std::fflush(stdout);
  }
  return 0;
}
