// cairn-words/1 (core/tokenizer/words.h): the same words as the recipe's reference
// (models/recipe/words.py; tests/core/runtime/ort_text_embedder_test.cc compares the two on the
// tiny-embed pack's texts), and the vocabulary file's checks.
#include "core/tokenizer/words.h"

#include <catch_amalgamated.hpp>

namespace cairn::tokenizer {
namespace {

using Words = std::vector<std::string>;

TEST_CASE("words: lower-case runs of letters and digits") {
  CHECK(SplitWords("Golden HOUR at the Pier, 2024!") ==
        Words{"golden", "hour", "at", "the", "pier", "2024"});
  CHECK(SplitWords("#Sunset\xF0\x9F\x8C\x85" "at the beach\xE2\x80\x94" "don't") ==
        Words{"sunset", "at", "the", "beach", "don", "t"});
  CHECK(SplitWords("").empty());
  CHECK(SplitWords("  ,.;  ").empty());
}

TEST_CASE("words: Latin-1 capitals are lowered, Latin Extended-A kept as is") {
  // "CAFÉ Crème × Ÿ": É (U+00C9) lowers to é; × (U+00D7) separates; Ÿ (U+0178) stays.
  CHECK(SplitWords("CAF\xC3\x89 Cr\xC3\xA8me \xC3\x97 \xC5\xB8") ==
        Words{"caf\xC3\xA9", "cr\xC3\xA8me", "\xC5\xB8"});
  CHECK(SplitWords("STRA\xC3\x9F" "E") == Words{"stra\xC3\x9F" "e"});  // ß is a word character
  CHECK(SplitWords("a\xC3\xB7" "b") == Words{"a", "b"});                // ÷ separates
}

TEST_CASE("words: each invalid UTF-8 byte separates words") {
  CHECK(SplitWords("caf\xC3\xA9\xFF" "bar") == Words{"caf\xC3\xA9", "bar"});
  CHECK(SplitWords("ab\xC3" "cd") == Words{"ab", "cd"});          // truncated sequence
  CHECK(SplitWords("ab\xC0\x80" "cd") == Words{"ab", "cd"});      // overlong NUL
  CHECK(SplitWords("ab\xED\xA0\x80" "cd") == Words{"ab", "cd"});  // a surrogate
  CHECK(SplitWords("ab\xC3") == Words{"ab"});                      // cut at the end
}

TEST_CASE("words: the vocabulary file") {
  auto v = WordVocab::Parse("<pad>\nthe\nsun\ncaf\xC3\xA9\n").value();
  CHECK(v.size() == 4);
  CHECK(v.Find("sun") == 2);
  CHECK(v.Find("moon") == -1);
  CHECK(v.Encode("The SUN, the moon, CAF\xC3\x89!") == std::vector<int64_t>{1, 2, 1, 3});
  CHECK(v.Encode("nothing known").empty());

  auto bad_first = WordVocab::Parse("the\nsun\n");
  REQUIRE_FALSE(bad_first.ok());
  CHECK(bad_first.status().ToString().find("line 0 must be '<pad>'") != std::string::npos);
  auto twice = WordVocab::Parse("<pad>\nsun\nsun\n");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().ToString().find("'sun' appears twice (line 2)") != std::string::npos);
  auto empty_line = WordVocab::Parse("<pad>\nsun\n\nsky\n");
  REQUIRE_FALSE(empty_line.ok());
  CHECK(empty_line.status().ToString().find("line 2 is empty") != std::string::npos);
  CHECK_FALSE(WordVocab::Parse("").ok());
}

}  // namespace
}  // namespace cairn::tokenizer
