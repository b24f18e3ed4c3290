#include "core/base/secret_bytes.h"

#include <catch_amalgamated.hpp>

#include <cstring>

namespace cairn {
namespace {

TEST_CASE("SecretBytes starts zeroed and copies only when asked") {
  SecretBytes s(16);
  CHECK(s.size() == 16);
  for (uint8_t b : s.view()) CHECK(b == 0);
  SecretBytes c = SecretBytes::CopyOf(AsBytes("key material"));
  SecretBytes d = c.Clone();
  CHECK(AsChars(d.view()) == "key material");
  CHECK(d.data() != c.data());
}

TEST_CASE("moving SecretBytes leaves the source empty") {
  SecretBytes a = SecretBytes::CopyOf(AsBytes("secret"));
  SecretBytes b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  CHECK(a.data() == nullptr);
  CHECK(AsChars(b.view()) == "secret");
  SecretBytes c = SecretBytes::CopyOf(AsBytes("other"));
  c = std::move(b);
  CHECK(AsChars(c.view()) == "secret");
}

TEST_CASE("Truncate wipes the bytes it cuts off") {
  SecretBytes s = SecretBytes::CopyOf(AsBytes("abcdef"));
  uint8_t* raw = s.data();
  s.Truncate(2);
  CHECK(s.size() == 2);
  CHECK(AsChars(s.view()) == "ab");
  // The buffer is still owned by s, so reading past size() is defined here.
  CHECK(raw[2] == 0);
  CHECK(raw[5] == 0);
}

TEST_CASE("SecureWipe zeroes memory") {
  char buf[8];
  std::memcpy(buf, "password", 8);
  SecureWipe(buf, sizeof buf);
  for (char c : buf) CHECK(c == 0);
}

}  // namespace
}  // namespace cairn
