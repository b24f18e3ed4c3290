// StreamingDetokenizer: whole code points only, on byte-level and byte-fallback tokenizers
// whose tokens split emoji, ZWJ sequences and CJK characters mid-sequence.
#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"

namespace cairn {
namespace {

using nlohmann::json;

// Byte-level BPE over single bytes only: every UTF-8 byte is its own token.
Tokenizer ByteTokenizer() {
  json vocab = json::object();
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    std::string s;
    tokenizer::AppendUtf8(&s, printable ? b : 256 + n++);
    vocab[s] = b;
  }
  json j = {{"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
            {"decoder", {{"type", "ByteLevel"}}},
            {"added_tokens", {{{"id", 256}, {"content", "<eos>"}, {"special", true}}}},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
  return Tokenizer::FromJson(j.dump()).value();
}

// Every prefix the stream emits is whole code points, and the pieces add up to Decode.
void CheckStream(const Tokenizer& tok, const std::string& text) {
  INFO("text: " << text);
  std::vector<int32_t> ids = tok.Encode(text, false).value();
  StreamingDetokenizer stream(tok, true);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = stream.Feed(id).value();
    CHECK(tokenizer::ValidateUtf8(piece).ok());
    CHECK(piece.find("\ufffd") == std::string::npos);
    streamed += piece;
    CHECK(text.compare(0, streamed.size(), streamed) == 0);  // always a prefix of the text
  }
  streamed += stream.Finish();
  CHECK(streamed == text);
  CHECK(streamed == tok.Decode(ids, true).value());
}

TEST_CASE("streaming holds back incomplete code points (byte-level)") {
  Tokenizer tok = ByteTokenizer();
  CheckStream(tok, "family 👨‍👩‍👧‍👦 and 👍🏽");
  CheckStream(tok, "中文字符 and 日本語 and 한국어");
  CheckStream(tok, "🏳️‍🌈🇯🇵");
  // 😀 is F0 9F 98 80: nothing appears until the fourth byte.
  StreamingDetokenizer stream(tok, true);
  CHECK(stream.Feed(0xF0).value().empty());
  CHECK(stream.Feed(0x9F).value().empty());
  CHECK(stream.Feed(0x98).value().empty());
  CHECK(stream.Feed(0x80).value() == "😀");
  CHECK(stream.Feed(256).value().empty());  // a skipped special token
  CHECK(stream.Feed('a').value() == "a");
  CHECK(stream.Feed(0xE4).value().empty());
  CHECK(stream.Finish() == "\ufffd");  // an unfinished sequence at the end
  CHECK_FALSE(stream.Feed(9999).ok());
}

TEST_CASE("streaming: bytes that can never be valid are not held back") {
  Tokenizer tok = ByteTokenizer();
  StreamingDetokenizer stream(tok, false);
  CHECK(stream.Feed(0xFF).value() == "\ufffd");
  CHECK(stream.Feed(0xF0).value().empty());
  CHECK(stream.Feed('x').value() == "\ufffdx");
  CHECK(stream.Feed(256).value() == "<eos>");
}

TEST_CASE("streaming with byte fallback and metaspace (SentencePiece layout)") {
  json vocab = {{"<unk>", 0}, {"\u2581", 1}, {"a", 2}, {"\u2581a", 3}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 10 + b;
  }
  json j = {
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}},
      {"pre_tokenizer",
       {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", {"\u2581 a"}}}}};
  Tokenizer tok = Tokenizer::FromJson(j.dump()).value();
  CHECK(tok.Encode("a", false).value() == std::vector<int32_t>{3});
  CHECK(tok.Decode(std::vector<int32_t>{3, 3}, false).value() == "a a");
  CheckStream(tok, "a 👩🏽‍💻 a 東京 a");
}

}  // namespace
}  // namespace cairn
