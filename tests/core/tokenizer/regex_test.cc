#include "core/tokenizer/regex.h"

#include <catch_amalgamated.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

// The matched substrings of every match (String.prototype.match with /g).
std::vector<std::string> MatchAll(std::string_view pattern, std::string_view text) {
  Result<Regex> re = Regex::Compile(pattern);
  REQUIRE(re.ok());
  std::u32string cps = ToCodePoints(text);
  std::vector<std::string> out;
  for (const Regex::Match& m : re->FindAll(cps)) {
    out.push_back(FromCodePoints(std::u32string_view(cps).substr(m.begin, m.end - m.begin)));
  }
  return out;
}

using V = std::vector<std::string>;

constexpr char kGpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
constexpr char kLlama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

TEST_CASE("regex: literals, classes, alternation order and greedy quantifiers") {
  CHECK(MatchAll("ab|a", "abab a") == V{"ab", "ab", "a"});
  CHECK(MatchAll("a|ab", "ab") == V{"a"});  // leftmost alternative wins, not the longest
  CHECK(MatchAll("[a-c]+", "abcdcba") == V{"abc", "cba"});
  CHECK(MatchAll("[^a-c]+", "abcdcba") == V{"d"});
  CHECK(MatchAll("x{2,3}", "xxxxxxx") == V{"xxx", "xxx"});
  CHECK(MatchAll("x{2}", "xxxxx") == V{"xx", "xx"});
  CHECK(MatchAll("a+?", "aaa") == V{"a", "a", "a"});
  CHECK(MatchAll("\\.", "a.b") == V{"."});
  CHECK(MatchAll("\\x41\\u0042\\x{1F600}", "AB\U0001F600") == V{"AB\U0001F600"});
}

TEST_CASE("regex: empty matches advance one code point, like matchAll") {
  CHECK(MatchAll("x*", "ab") == V{"", "", ""});
  CHECK(MatchAll("(?:a*)*b", "aab") == V{"aab"});  // a nullable loop body terminates
}

TEST_CASE("regex: Unicode categories count code points, not bytes") {
  CHECK(MatchAll("\\p{L}+", "héllo wörld 東京") == V{"héllo", "wörld", "東京"});
  CHECK(MatchAll("\\p{N}+", "x١٢٣y42") == V{"١٢٣", "42"});
  CHECK(MatchAll("\\p{P}", "a,b!") == V{",", "!"});
  CHECK(MatchAll("\\P{L}+", "ab12cd") == V{"12"});
  CHECK(MatchAll("\\pL+", "ab12") == V{"ab"});
  CHECK(MatchAll(".", "😀\n") == V{"😀"});
}

TEST_CASE("regex: \\s is Unicode White_Space") {
  CHECK(MatchAll("\\s+", "a\u00a0\u3000b\u0085c") == V{"\u00a0\u3000", "\u0085"});
  CHECK(MatchAll("\\S+", "a\u200bb c") == V{"a\u200bb", "c"});  // ZWSP is not white space
}

TEST_CASE("regex: lookahead, lookbehind and anchors") {
  CHECK(MatchAll("\\s+(?!\\S)", "a   b") == V{"  "});
  CHECK(MatchAll("a(?=b)", "ab ac") == V{"a"});
  CHECK(MatchAll("(?<=x)y", "xy zy") == V{"y"});
  CHECK(MatchAll("(?<!x)y", "xy zy") == V{"y"});
  CHECK(MatchAll("^a", "a\na") == V{"a", "a"});
  CHECK(MatchAll("\\Aa", "a\na") == V{"a"});
  CHECK(MatchAll("b$", "ab\nb") == V{"b", "b"});
  CHECK(MatchAll("\\bcat\\b", "cat concat cat") == V{"cat", "cat"});
}

TEST_CASE("regex: (?i:...) folds ASCII letters only") {
  CHECK(MatchAll("(?i:'s|'ll)", "'S 'LL 'lL 's") == V{"'S", "'LL", "'lL", "'s"});
  CHECK(MatchAll("(?i:[a-c])+", "AbCd") == V{"AbC"});
  CHECK(MatchAll("(?i:k)", "K\u212a") == V{"K"});  // the Kelvin sign does not fold
}

TEST_CASE("regex: the GPT-2 pattern splits words, numbers, punctuation and spaces") {
  CHECK(MatchAll(kGpt2, "Hello world's 123 !!  x") ==
        V{"Hello", " world", "'s", " 123", " !!", " ", " x"});
  CHECK(MatchAll(kGpt2, "a\n\n b") == V{"a", "\n\n", " b"});
}

TEST_CASE("regex: the Llama 3 pattern groups digits in threes and keeps newlines apart") {
  CHECK(MatchAll(kLlama3, "1234567 I'LL go!\r\n\r\nok") ==
        V{"123", "456", "7", " I", "'LL", " go", "!\r\n\r\n", "ok"});
  CHECK(MatchAll(kLlama3, "  hi\n  there") == V{" ", " hi", "\n", " ", " there"});
}

TEST_CASE("regex: unsupported or malformed patterns are errors, not crashes") {
  for (const char* bad :
       {"(", "a)", "[a-", "\\p{Han}", "\\1", "x{3,2}", "*a", "(?P=x)", "\\", "[z-a]", "(?x:a)"}) {
    INFO(bad);
    Result<Regex> re = Regex::Compile(bad);
    CHECK_FALSE(re.ok());
  }
  Result<Regex> re = Regex::Compile("\\p{Han}");
  CHECK(re.status().message().find("\\p{Han}") != std::string::npos);
}

}  // namespace
}  // namespace cairn::tokenizer
