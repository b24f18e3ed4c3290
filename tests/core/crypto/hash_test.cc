#include "core/crypto/hash.h"

#include <catch_amalgamated.hpp>

#include <string>

#include "tests/support/test_util.h"

namespace cairn::crypto {
namespace {

using cairn::testing::Hex;

TEST_CASE("BLAKE2b-512 of \"abc\" matches RFC 7693 Appendix A") {
  Bytes want = Hex(
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  CHECK(ToHex(Blake2bHash(AsBytes("abc"), 64).value()) == ToHex(want));
}

TEST_CASE("keyed BLAKE2b matches the BLAKE2 reference KAT (blake2b-kat.txt)") {
  // Key 00 01 .. 3f; inputs: empty, and 00 01 .. fe (the file's first and last entries).
  Bytes key(64);
  for (int i = 0; i < 64; ++i) key[i] = static_cast<uint8_t>(i);
  Bytes in(255);
  for (int i = 0; i < 255; ++i) in[i] = static_cast<uint8_t>(i);
  CHECK(ToHex(Blake2bHash({}, 64, key).value()) ==
        "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
        "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
  CHECK(ToHex(Blake2bHash(in, 64, key).value()) ==
        "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
        "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461");
}

TEST_CASE("SHA-256 matches the FIPS 180-4 examples") {
  CHECK(ToHex(Sha256Hash(AsBytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ToHex(Sha256Hash(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', streamed in uneven pieces.
  Sha256 h;
  std::string piece(997, 'a');
  size_t left = 1'000'000;
  while (left > 0) {
    size_t n = std::min(left, piece.size());
    h.Update(AsBytes(std::string_view(piece).substr(0, n)));
    left -= n;
  }
  CHECK(ToHex(h.Final().value()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("streaming hashes equal one-shot hashes at every split point") {
  Bytes data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  const Bytes want_b = Blake2bHash(data, 32).value();
  const Bytes want_s = Sha256Hash(data);
  for (size_t split = 0; split <= data.size(); split += 13) {
    Blake2b b = Blake2b::Create(32).value();
    Sha256 s;
    b.Update(ByteView(data).first(split));
    s.Update(ByteView(data).first(split));
    b.Update(ByteView(data).subspan(split));
    s.Update(ByteView(data).subspan(split));
    CHECK(b.Final().value() == want_b);
    CHECK(s.Final().value() == want_s);
  }
}

TEST_CASE("a saved BLAKE2b state hashes on as the original would; other bytes are refused") {
  Bytes data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 1);
  for (size_t digest : {size_t{16}, size_t{32}, size_t{64}}) {
    const Bytes want = Blake2bHash(data, digest).value();
    for (size_t split : {size_t{0}, size_t{1}, size_t{128}, size_t{129}, size_t{999}, size_t{1000}}) {
      Blake2b b = Blake2b::Create(digest).value();
      b.Update(ByteView(data).first(split));
      const Bytes saved = b.Save().value();
      b.Update(AsBytes("the original goes on differently"));
      Blake2b r = Blake2b::Restore(saved).value();
      r.Update(ByteView(data).subspan(split));
      CHECK(r.Final().value() == want);
    }
  }
  Blake2b b = Blake2b::Create(32).value();
  Bytes saved = b.Save().value();
  CHECK(Blake2b::Restore(ByteView(saved).first(saved.size() - 1)).status().code() ==
        StatusCode::kInvalidArgument);
  Bytes other_tag = saved;
  other_tag[3] = '2';
  CHECK(Blake2b::Restore(other_tag).status().code() == StatusCode::kInvalidArgument);
  Bytes other_digest = saved;
  other_digest[8] = 65;
  CHECK(Blake2b::Restore(other_digest).status().code() == StatusCode::kInvalidArgument);
  REQUIRE(b.Final().ok());
  CHECK(b.Save().status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("digest size, key size and double Final are checked") {
  CHECK(Blake2bHash(AsBytes("x"), 15).status().code() == StatusCode::kInvalidArgument);
  CHECK(Blake2bHash(AsBytes("x"), 65).status().code() == StatusCode::kInvalidArgument);
  CHECK(Blake2bHash(AsBytes("x"), 32, Bytes(65)).status().code() == StatusCode::kInvalidArgument);
  Blake2b b = Blake2b::Create(16).value();
  CHECK(b.Final().value().size() == 16);
  CHECK(b.Final().status().code() == StatusCode::kFailedPrecondition);
  Sha256 s;
  REQUIRE(s.Final().ok());
  CHECK(s.Final().status().code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn::crypto
