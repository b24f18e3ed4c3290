#include "core/tokenizer/pre_tokenizer.h"

#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/decoder.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

using V = std::vector<std::string>;

V Split(const nlohmann::json& config, std::string_view text, int section = 0) {
  Result<std::unique_ptr<PreTokenizer>> p = MakePreTokenizer(config, "pre_tokenizer");
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  V out;
  (*p)->Split(text, section, &out);
  return out;
}

V Decode(const nlohmann::json& config, V tokens) {
  Result<std::unique_ptr<Decoder>> d = MakeDecoder(config, "decoder");
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  (*d)->DecodeChain(&tokens, DecodeContext{});
  return tokens;
}

TEST_CASE("pre-tokenizers: Split behaviours") {
  const nlohmann::json digits = {{"Regex", "\\d+"}};
  CHECK(Split({{"type", "Split"}, {"pattern", digits}, {"behavior", "Isolated"}}, "ab12cd3") ==
        V{"ab", "12", "cd", "3"});
  CHECK(Split({{"type", "Split"}, {"pattern", digits}, {"behavior", "Removed"}}, "ab12cd3") ==
        V{"ab", "cd"});
  CHECK(Split({{"type", "Split"}, {"pattern", digits}, {"behavior", "Isolated"}, {"invert", true}},
              "ab12cd3") == V{"12", "3"});
  // A String pattern keeps its separators even when Removed (the reference's capture group).
  CHECK(Split({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", "Removed"}},
              "a-b") == V{"a", "-", "b"});
  auto bad = MakePreTokenizer({{"type", "Split"}, {"pattern", digits}, {"behavior", "Sideways"}},
                              "pre_tokenizer");
  CHECK(bad.status().message().find("pre_tokenizer.behavior") != std::string::npos);
}

TEST_CASE("pre-tokenizers: ByteLevel, Digits, Metaspace, Whitespace, Bert, Sequence") {
  CHECK(Split({{"type", "ByteLevel"}, {"add_prefix_space", true}}, "Hi there") ==
        V{"\u0120Hi", "\u0120there"});
  CHECK(Split({{"type", "ByteLevel"}, {"use_regex", false}}, "é\n") == V{"\u00c3\u00a9\u010a"});
  CHECK(Split({{"type", "Digits"}, {"individual_digits", true}}, "a123") == V{"a", "1", "2", "3"});
  CHECK(Split({{"type", "Digits"}, {"individual_digits", false}}, "a123b") == V{"a", "123", "b"});
  const nlohmann::json first = {{"type", "Metaspace"}, {"prepend_scheme", "first"}};
  CHECK(Split(first, "a b", 0) == V{"\u2581a\u2581b"});
  CHECK(Split(first, "a b", 1) == V{"a\u2581b"});
  CHECK(Split({{"type", "Metaspace"}, {"prepend_scheme", "never"}}, "a") == V{"a"});
  CHECK(Split({{"type", "Whitespace"}}, "héllo, wörld!") == V{"héllo", ",", "wörld", "!"});
  CHECK(Split({{"type", "WhitespaceSplit"}}, " a\tb  c ") == V{"a", "b", "c"});
  CHECK(Split({{"type", "BertPreTokenizer"}}, " Hello, world! ") == V{"Hello", ",", "world", "!"});
  CHECK(Split({{"type", "Sequence"},
               {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}}}}},
              "ab12 c3") == V{"ab", "12", "c", "3"});
  CHECK(UnicodeToByte(ByteToUnicode(0x0A)) == 0x0A);
  CHECK(ByteToUnicode(' ') == 0x120);
}

TEST_CASE("decoders") {
  CHECK(Decode({{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}},
               V{"un", "##aff", "##able", "it", "'s", "."}) ==
        V{"un", "aff", "able", " it", "'s", "."});
  CHECK(Decode({{"type", "ByteFallback"}}, V{"a", "<0xE2>", "<0x82>", "<0xAC>", "<0xFF>", "b"}) ==
        V{"a", "\u20ac\ufffd", "b"});
  CHECK(Decode({{"type", "Metaspace"}}, V{"\u2581a", "\u2581b"}) == V{"a", " b"});
  CHECK(Decode({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}, V{"  a  "}) ==
        V{" a "});
  CHECK(Decode({{"type", "BPEDecoder"}, {"suffix", "</w>"}}, V{"a</w>", "b</w>"}) == V{"a ", "b"});
  CHECK(Decode({{"type", "Sequence"}, {"decoders", {{{"type", "Fuse"}}}}}, V{"a", "b"}) == V{"ab"});
  std::string joy;  // 😂 in the byte-level alphabet
  for (unsigned char b : std::string("\U0001F602")) AppendUtf8(&joy, ByteToUnicode(b));
  CHECK(Decode({{"type", "ByteLevel"}}, V{"\u0120Hi", joy}) == V{" Hi\U0001F602"});
}

}  // namespace
}  // namespace cairn::tokenizer
