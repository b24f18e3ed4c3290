#include "core/base/bytes.h"

#include <catch_amalgamated.hpp>

namespace cairn {
namespace {

TEST_CASE("hex round-trips every byte value") {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string hex = ToHex(all);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(hex.size() - 4) == "feff");
  CHECK(FromHex(hex).value() == all);
  CHECK(FromHex("ABcd").value() == Bytes{0xab, 0xcd});
}

TEST_CASE("malformed hex names what is wrong") {
  CHECK(FromHex("abc").status().message() == "hex string has odd length 3");
  CHECK(FromHex("00zz").status().message() ==
        "hex string has a non-hex character at position 2");
  CHECK(FromHex("0x").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("AsBytes and AsChars view a string without copying") {
  std::string s = "caption";
  ByteView b = AsBytes(s);
  CHECK(b.size() == 7);
  CHECK(static_cast<const void*>(b.data()) == static_cast<const void*>(s.data()));
  CHECK(AsChars(b) == "caption");
}

}  // namespace
}  // namespace cairn
