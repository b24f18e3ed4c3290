#include "core/crypto/random.h"

#include <catch_amalgamated.hpp>

#include <array>

namespace cairn::crypto {
namespace {

TEST_CASE("random bytes differ between draws and cover every byte value") {
  CHECK(RandomBytes(32) != RandomBytes(32));
  // 256 KiB: each value is expected 1024 times; a broken RNG (zeros, a counter, a short cycle)
  // lands far outside [800, 1250]. The chance a good RNG does is below 1e-9 per value.
  Bytes big = RandomBytes(256 * 1024);
  std::array<int, 256> counts{};
  for (uint8_t b : big) ++counts[b];
  for (int c : counts) {
    CHECK(c > 800);
    CHECK(c < 1250);
  }
  CHECK(RandomSecret(48).size() == 48);
}

TEST_CASE("ConstantTimeEquals compares length and contents") {
  CHECK(ConstantTimeEquals(AsBytes("tag-0123"), AsBytes("tag-0123")));
  CHECK_FALSE(ConstantTimeEquals(AsBytes("tag-0123"), AsBytes("tag-0124")));
  CHECK_FALSE(ConstantTimeEquals(AsBytes("tag"), AsBytes("tag-0123")));
  CHECK(ConstantTimeEquals({}, {}));
}

}  // namespace
}  // namespace cairn::crypto
