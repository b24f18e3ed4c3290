#include "core/crypto/sign.h"

#include <catch_amalgamated.hpp>

#include "tests/support/test_util.h"

namespace cairn::crypto {
namespace {

using cairn::testing::Hex;

struct Rfc8032Vector {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032, section 7.1, TEST 1, 2 and 3 (Ed25519).
const Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST_CASE("Ed25519 matches RFC 8032 section 7.1 tests 1-3") {
  for (const auto& v : kVectors) {
    SigningKeyPair kp = SigningKeyPairFromSeed(Hex(v.secret)).value();
    CHECK(ToHex(kp.public_key) == v.public_key);
    Bytes msg = Hex(v.message);
    Bytes sig = Sign(kp.secret_key.view(), msg).value();
    CHECK(ToHex(sig) == v.signature);
    CHECK(Verify(kp.public_key, msg, sig).ok());
  }
}

TEST_CASE("a modified signature, message or signer does not verify") {
  SigningKeyPair kp = GenerateSigningKeyPair();
  SigningKeyPair other = GenerateSigningKeyPair();
  Bytes msg = ToBytes("{\"id\":\"cairn-caption-starter\",\"version\":\"1.0.0\"}");
  const Bytes sig = Sign(kp.secret_key.view(), msg).value();
  REQUIRE(Verify(kp.public_key, msg, sig).ok());

  for (size_t i = 0; i < sig.size(); ++i) {
    Bytes bad = sig;
    bad[i] ^= 0x80;
    CHECK(Verify(kp.public_key, msg, bad).code() == StatusCode::kAuthFailed);
  }
  for (size_t i = 0; i < msg.size(); ++i) {
    Bytes bad = msg;
    bad[i] ^= 0x01;
    CHECK(Verify(kp.public_key, bad, sig).code() == StatusCode::kAuthFailed);
  }
  Status wrong_signer = Verify(other.public_key, msg, sig);
  CHECK(wrong_signer.code() == StatusCode::kAuthFailed);
  CHECK_THAT(wrong_signer.message(), Catch::Matchers::ContainsSubstring("does not verify"));
}

TEST_CASE("bad sizes are rejected with the field named") {
  SigningKeyPair kp = GenerateSigningKeyPair();
  CHECK(SigningKeyPairFromSeed(Bytes(31)).status().message() ==
        "ed25519: seed must be 32 bytes, got 31");
  CHECK(Sign(Bytes(32), AsBytes("m")).status().code() == StatusCode::kInvalidArgument);
  CHECK(Verify(Bytes(31), AsBytes("m"), Bytes(64)).code() == StatusCode::kInvalidArgument);
  CHECK(Verify(kp.public_key, AsBytes("m"), Bytes(63)).code() == StatusCode::kAuthFailed);
}

}  // namespace
}  // namespace cairn::crypto
