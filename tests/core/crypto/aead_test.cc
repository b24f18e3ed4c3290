#include "core/crypto/aead.h"

#include <catch_amalgamated.hpp>
#include <sodium.h>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "tests/support/test_util.h"

namespace cairn::crypto {
namespace {

using cairn::testing::Hex;

// draft-irtf-cfrg-xchacha-03, Appendix A.3.1 (AEAD_XChaCha20_Poly1305 test vector).
const char kSunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";

TEST_CASE("XChaCha20-Poly1305 matches draft-irtf-cfrg-xchacha-03 A.3.1") {
  Bytes key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  Bytes nonce = Hex("404142434445464748494a4b4c4d4e4f5051525354555657");
  Bytes aad = Hex("50515253c0c1c2c3c4c5c6c7");
  Bytes want_ct = Hex(
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
      "21f9664c97637da9768812f615c68b13b52e");
  Bytes want_tag = Hex("c0875924c1c7987947deafd8780acf49");
  ByteView plain = AsBytes(kSunscreen);

  Bytes ct(plain.size());
  Bytes tag(kAeadTagBytes);
  REQUIRE(AeadEncryptDetached(key, nonce, aad, plain, ct, tag).ok());
  CHECK(ToHex(ct) == ToHex(want_ct));
  CHECK(ToHex(tag) == ToHex(want_tag));

  Bytes back(ct.size());
  REQUIRE(AeadDecryptDetached(key, nonce, aad, ct, tag, back).ok());
  CHECK(AsChars(back) == kSunscreen);
}

// The vector above is 114 bytes: it reaches only the one-block and partial-block ChaCha20 code.
// These lengths also run the 4-block (SSSE3, as wasm has it) and 8-block (AVX2) loops. Expected:
// SHA-256 of the ciphertext and the tag from OpenSSL's ChaCha20-Poly1305 (Node's crypto module;
// OpenSSL 3.0.19 and 3.5.9 agree), plaintext byte i = i * 7 + 3. XChaCha20-Poly1305 and
// secretstream run on the same ChaCha20 and Poly1305 code.
TEST_CASE("ChaCha20-Poly1305 (IETF) matches OpenSSL on messages of many blocks") {
  REQUIRE(sodium_init() >= 0);
  Bytes key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  Bytes nonce = Hex("070000004041424344454647");
  Bytes aad = Hex("50515253c0c1c2c3c4c5c6c7");
  struct Case {
    size_t size;
    const char* ct_sha256;
    const char* tag;
  };
  const Case cases[] = {
      {1000, "5ba834c792459a1800e686605a5018ed7c1be47269247a01e00b3350c4c55184",
       "4492eb143574bbf88c1a5d76d1b366b6"},
      {4096, "5b76419d43b222b56ae5efd5df37451cbbe7636b990a2f228add15ae32a660a4",
       "4dced1fe77979631bd86afd61ddfdcb3"},
      {65553, "728940b1207e4e1cf339f50a4c2609e1777d4cef1a11eaf7e6c1edf2e5974d8f",
       "cdd4bb947f762ef094ba2b80230126ae"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.size);
    Bytes plain(c.size);
    for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 7 + 3);
    Bytes ct(plain.size());
    Bytes tag(crypto_aead_chacha20poly1305_ietf_ABYTES);
    REQUIRE(crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                ct.data(), tag.data(), nullptr, plain.data(), plain.size(), aad.data(),
                aad.size(), nullptr, nonce.data(), key.data()) == 0);
    CHECK(ToHex(Sha256Hash(ct)) == c.ct_sha256);
    CHECK(ToHex(tag) == c.tag);
    Bytes back(ct.size());
    REQUIRE(crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                back.data(), nullptr, ct.data(), ct.size(), tag.data(), aad.data(), aad.size(),
                nonce.data(), key.data()) == 0);
    CHECK(back == plain);
  }
}

#ifdef __EMSCRIPTEN__
// tools/deps.sh builds libsodium's SSE2/SSSE3 code for wasm (on SIMD128) and makes its cpuid
// probe report those two; without that, the vectors above would pass on the portable code alone.
TEST_CASE("the wasm build dispatches to libsodium's SSE2/SSSE3 code") {
  REQUIRE(sodium_init() >= 0);
  CHECK(sodium_runtime_has_sse2() == 1);
  CHECK(sodium_runtime_has_ssse3() == 1);
  CHECK(sodium_runtime_has_sse41() == 0);
  CHECK(sodium_runtime_has_avx2() == 0);
}
#endif

TEST_CASE("verifying a tag alone accepts the vector and refuses any change") {
  Bytes key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  Bytes nonce = Hex("404142434445464748494a4b4c4d4e4f5051525354555657");
  Bytes aad = Hex("50515253c0c1c2c3c4c5c6c7");
  ByteView plain = AsBytes(kSunscreen);
  Bytes ct(plain.size());
  Bytes tag(kAeadTagBytes);
  REQUIRE(AeadEncryptDetached(key, nonce, aad, plain, ct, tag).ok());
  CHECK(AeadVerifyDetached(key, nonce, aad, ct, tag).ok());
  Bytes bad_ct = ct;
  bad_ct[10] ^= 1;
  CHECK(AeadVerifyDetached(key, nonce, aad, bad_ct, tag).code() == StatusCode::kAuthFailed);
  Bytes bad_aad = aad;
  bad_aad[0] ^= 1;
  CHECK(AeadVerifyDetached(key, nonce, bad_aad, ct, tag).code() == StatusCode::kAuthFailed);
  Bytes bad_tag = tag;
  bad_tag[15] ^= 0x80;
  CHECK(AeadVerifyDetached(key, nonce, aad, ct, bad_tag).code() == StatusCode::kAuthFailed);
}

TEST_CASE("detached AEAD works in place") {
  SecretBytes key = RandomSecret(kAeadKeyBytes);
  Bytes nonce = RandomBytes(kAeadNonceBytes);
  Bytes buf = ToBytes("page contents, encrypted where they lie");
  const Bytes original = buf;
  Bytes tag(kAeadTagBytes);
  REQUIRE(AeadEncryptDetached(key.view(), nonce, {}, buf, buf, tag).ok());
  CHECK(buf != original);
  REQUIRE(AeadDecryptDetached(key.view(), nonce, {}, buf, tag, buf).ok());
  CHECK(buf == original);
}

TEST_CASE("seal and open round-trip, with a fresh nonce each time") {
  SecretBytes key = RandomSecret(kAeadKeyBytes);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 1000u, 65536u}) {
    Bytes plain = RandomBytes(n);
    Bytes sealed = AeadSeal(key.view(), plain, AsBytes("ad")).value();
    CHECK(sealed.size() == n + kAeadSealOverhead);
    SecretBytes opened = AeadOpen(key.view(), sealed, AsBytes("ad")).value();
    CHECK(Bytes(opened.view().begin(), opened.view().end()) == plain);
  }
  Bytes a = AeadSeal(key.view(), AsBytes("same"), {}).value();
  Bytes b = AeadSeal(key.view(), AsBytes("same"), {}).value();
  CHECK(a != b);
}

TEST_CASE("flipping any byte of a sealed message is detected") {
  SecretBytes key = RandomSecret(kAeadKeyBytes);
  const Bytes sealed = AeadSeal(key.view(), AsBytes("a draft caption #sunset"), AsBytes("id")).value();
  int detected = 0;
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    Result<SecretBytes> r = AeadOpen(key.view(), bad, AsBytes("id"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kAuthFailed);
    ++detected;
  }
  CHECK(detected == static_cast<int>(sealed.size()));
}

TEST_CASE("wrong key, wrong associated data and truncation fail closed") {
  SecretBytes key = RandomSecret(kAeadKeyBytes);
  SecretBytes other = RandomSecret(kAeadKeyBytes);
  Bytes sealed = AeadSeal(key.view(), AsBytes("hello"), AsBytes("page 1")).value();

  Status wrong_key = AeadOpen(other.view(), sealed, AsBytes("page 1")).status();
  CHECK(wrong_key.code() == StatusCode::kAuthFailed);
  CHECK_THAT(wrong_key.message(), Catch::Matchers::ContainsSubstring("authentication failed"));

  CHECK(AeadOpen(key.view(), sealed, AsBytes("page 2")).status().code() ==
        StatusCode::kAuthFailed);

  Bytes short_by_one(sealed.begin(), sealed.end() - 1);
  CHECK(AeadOpen(key.view(), short_by_one, AsBytes("page 1")).status().code() ==
        StatusCode::kAuthFailed);
  Bytes stub(sealed.begin(), sealed.begin() + 10);
  Status truncated = AeadOpen(key.view(), stub, AsBytes("page 1")).status();
  CHECK(truncated.code() == StatusCode::kCorruption);
  CHECK_THAT(truncated.message(), Catch::Matchers::ContainsSubstring("truncated"));
}

TEST_CASE("bad key and nonce sizes are invalid arguments that name the field") {
  Bytes short_key(31);
  Status s = AeadSeal(short_key, AsBytes("x"), {}).status();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "aead: key must be 32 bytes, got 31");

  SecretBytes key = RandomSecret(kAeadKeyBytes);
  Bytes nonce(12), out(1), tag(16);
  Status n = AeadEncryptDetached(key.view(), nonce, {}, AsBytes("x"), out, tag);
  CHECK(n.message() == "aead: nonce must be 24 bytes, got 12");
}

}  // namespace
}  // namespace cairn::crypto
