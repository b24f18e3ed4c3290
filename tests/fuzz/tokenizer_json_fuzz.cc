// tokenizer.json documents: they arrive inside model packs (a user may install any Optimum
// pack), so the loader sees untrusted JSON: odd types, huge or negative ids, merges that name
// unknown tokens, regexes in pre-tokenizers, unsupported components.
//
// Oracles: a tokenizer that loads encodes and decodes a fixed text without crashing, every id
// it produces is inside its vocabulary, and the streaming detokenizer agrees with Decode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  Result<Tokenizer> tok = Tokenizer::FromJson(json);
  if (!tok.ok()) return 0;

  for (std::string_view text : {std::string_view("Sunset at the pier \xF0\x9F\x8C\x85 #golden"),
                                std::string_view("<|endoftext|> a  b\tc\n\xC3\xA9")}) {
    Result<std::vector<int32_t>> ids = tok->Encode(text, true);
    if (!ids.ok()) continue;
    for (int32_t id : *ids) {
      CAIRN_FUZZ_CHECK(id >= 0 && id < tok->vocab_size(), "id " + std::to_string(id));
    }
    Result<std::string> decoded = tok->Decode(*ids, false);
    CAIRN_FUZZ_CHECK(decoded.ok(), decoded.status().ToString());
    // Every id the encoder made streams back; whether the text equals Decode's is
    // tokenizer_encode's oracle (on a decoder the header promises it for).
    StreamingDetokenizer stream(*tok, false);
    for (int32_t id : *ids) {
      Result<std::string> piece = stream.Feed(id);
      CAIRN_FUZZ_CHECK(piece.ok(), piece.status().ToString());
    }
    (void)stream.Finish();
  }
  (void)tok->TokenBytes();
  return 0;
}
