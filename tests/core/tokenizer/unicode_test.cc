#include "core/tokenizer/unicode.h"

#include <catch_amalgamated.hpp>
#include <string>

namespace cairn::tokenizer {
namespace {

TEST_CASE("unicode: general categories from the generated table") {
  CHECK(GetCategory('A') == Category::kLu);
  CHECK(GetCategory('z') == Category::kLl);
  CHECK(GetCategory('7') == Category::kNd);
  CHECK(GetCategory(0x4E2D) == Category::kLo);   // 中
  CHECK(GetCategory(0x0301) == Category::kMn);   // combining acute
  CHECK(GetCategory(0x1F600) == Category::kSo);  // 😀
  CHECK(GetCategory(0x00A0) == Category::kZs);
  CHECK(GetCategory(0x10FFFF) == Category::kCn);
  CHECK(GetCategory(0xE000) == Category::kCo);
  CHECK(std::string(UnicodeVersion()).rfind("15.", 0) == 0);
}

TEST_CASE("unicode: NFC composes and NFD decomposes, with canonical ordering") {
  CHECK(ToNfc("e\u0301") == "\u00e9");
  CHECK(ToNfd("\u00e9") == "e\u0301");
  CHECK(ToNfc("\u1100\u1161\u11a8") == "\uac01");  // Hangul L V T
  CHECK(ToNfd("\uac01") == "\u1100\u1161\u11a8");
  CHECK(ToNfc("o\u0323\u0302") == "\u1ed9");  // ộ from either mark order
  CHECK(ToNfc("o\u0302\u0323") == "\u1ed9");
  CHECK(ToNfc("\u212b") == "\u00c5");        // Angstrom sign: singleton decomposition
  CHECK(ToNfc("\u0958") == "\u0915\u093c");  // composition exclusion stays decomposed
  CHECK(ToNfc("\ufb01") == "\ufb01");        // compatibility only: NFC leaves it
  CHECK(ToNfc("plain ascii") == "plain ascii");
}

TEST_CASE("unicode: lowercase like JavaScript") {
  CHECK(ToLower("HeLLo ÀÉÎ") == "hello àéî");
  CHECK(ToLower("\u0130") == "i\u0307");
  CHECK(ToLower("ΣΟΦΟΣ") == "σοφος");
  CHECK(ToLower("Σ") == "σ");
}

TEST_CASE("unicode: UTF-8 validation names the offset; lossy decoding replaces") {
  CHECK(ValidateUtf8("héllo 😀").ok());
  Status bad = ValidateUtf8("ab\xff");
  CHECK(bad.code() == StatusCode::kInvalidArgument);
  CHECK(bad.message().find("byte offset 2") != std::string::npos);
  CHECK_FALSE(ValidateUtf8("\xed\xa0\x80").ok());  // a surrogate
  CHECK_FALSE(ValidateUtf8("\xc0\xaf").ok());      // overlong
  CHECK_FALSE(ValidateUtf8("\xf0\x9f\x98").ok());  // truncated
  CHECK(Utf8Lossy("a\xffz") == "a\ufffdz");
  CHECK(Utf8Lossy("\xf0\x9f\x98") == "\ufffd");  // one maximal subpart
  CHECK(Utf8Lossy("\xe2\x82x") == "\ufffdx");
  CHECK(CompleteUtf8Prefix("ab\xf0\x9f\x98") == 2);
  CHECK(CompleteUtf8Prefix("ab\xf0\x9f\x98\x80") == 6);
  CHECK(CompleteUtf8Prefix("ab\xff") == 3);  // never valid: not held back
}

}  // namespace
}  // namespace cairn::tokenizer
