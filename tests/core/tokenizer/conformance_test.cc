// Conformance against the reference implementation (@huggingface/tokenizers): every corpus string
// must encode to identical ids, decode to the reference's text, and round-trip where the
// reference does.
//
// The ctest fixture core_tokenizer_reference runs reference.mjs, which writes
// tokenizer_reference.json (corpus, expected ids and texts, and the paths of the tokenizer.json
// files) into the test's working directory. $CAIRN_TOKENIZER_REFERENCE names another file
// (natively; a wasm build under Node sees no host environment, so it uses the working
// directory).
#include <catch_amalgamated.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace cairn {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

TEST_CASE("tokenizers match @huggingface/tokenizers on the corpus") {
  const char* env = std::getenv("CAIRN_TOKENIZER_REFERENCE");
  const std::string path = env != nullptr ? env : "tokenizer_reference.json";
  const std::string text = ReadFile(path);
  INFO("reference file: " << path << " (written by the core_tokenizer_reference fixture)");
  REQUIRE(!text.empty());
  const nlohmann::json reference = nlohmann::json::parse(text);
  REQUIRE(reference["tokenizers"].size() == 4);

  for (const auto& entry : reference["tokenizers"]) {
    const std::string name = entry["name"];
    INFO("tokenizer " << name << " from " << entry["file"].get<std::string>());
    const std::string file_text = ReadFile(entry["file"]);
    const auto load_start = std::chrono::steady_clock::now();
    Result<Tokenizer> tok = Tokenizer::FromJson(file_text);
    const auto load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - load_start)
                             .count();
    REQUIRE(tok.ok());
    int checked = 0, id_mismatches = 0, decode_mismatches = 0, roundtrip_checked = 0,
        stream_mismatches = 0;
    for (const auto& c : entry["cases"]) {
      const std::string s = c["text"];
      INFO("text: " << nlohmann::json(s).dump());
      const std::string want_decoded = c["decoded"];
      const std::string want_skip = c["decoded_skip_special"];
      const std::vector<int32_t> want = c["ids"];
      const std::vector<int32_t> want_plain = c["ids_no_special"];
      Result<std::vector<int32_t>> got = tok->Encode(s, true);
      Result<std::vector<int32_t>> got_plain = tok->Encode(s, false);
      REQUIRE(got.ok());
      REQUIRE(got_plain.ok());
      ++checked;
      if (*got != want || *got_plain != want_plain) {
        ++id_mismatches;
        UNSCOPED_INFO("ids differ: got " << Show(*got) << " want " << Show(want));
      }
      CHECK(*got == want);
      CHECK(*got_plain == want_plain);

      Result<std::string> decoded = tok->Decode(want, false);
      Result<std::string> decoded_skip = tok->Decode(want, true);
      REQUIRE(decoded.ok());
      REQUIRE(decoded_skip.ok());
      if (*decoded != want_decoded || *decoded_skip != want_skip) {
        ++decode_mismatches;
      }
      CHECK(*decoded == want_decoded);
      CHECK(*decoded_skip == want_skip);
      // Round trip wherever the reference itself is lossless.
      if (want_skip == s || want_decoded == s) {
        ++roundtrip_checked;
        const bool skip = want_skip == s;
        CHECK(*tok->Decode(*got, skip) == s);
      }
      // Streaming gives the same text, one token at a time.
      StreamingDetokenizer stream(*tok, true);
      std::string streamed;
      for (int32_t id : want) streamed += stream.Feed(id).value();
      streamed += stream.Finish();
      if (streamed != *decoded_skip) ++stream_mismatches;
      CHECK(streamed == *decoded_skip);
    }
    std::printf(
        "conformance %-7s strings=%d id_mismatches=%d decode_mismatches=%d "
        "roundtrips_checked=%d stream_mismatches=%d load_ms=%lld\n",
        name.c_str(), checked, id_mismatches, decode_mismatches, roundtrip_checked,
        stream_mismatches, static_cast<long long>(load_ms));
    std::fflush(stdout);
    CHECK(checked > 50);
  }
}

}  // namespace
}  // namespace cairn
