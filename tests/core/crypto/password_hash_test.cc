#include "core/crypto/password_hash.h"

#include <catch_amalgamated.hpp>
#include <sodium.h>

#include <string>

#include "tests/support/test_util.h"

namespace cairn::crypto {
namespace {

std::string Base64NoPad(ByteView b) {
  std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

TEST_CASE("the compiled Argon2id matches the reference implementation's test vector") {
  // phc-winner-argon2, src/test.c: Argon2id v=0x13, t=2, m=2^8 KiB, p=1, password "password",
  // salt "somesalt" -> 9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe.
  // libsodium's API takes 16-byte salts only, so the vector (8-byte salt) is checked through its
  // encoded form.
  REQUIRE(sodium_init() >= 0);
  const char* encoded =
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
  CHECK(crypto_pwhash_argon2id_str_verify(encoded, "password", 8) == 0);
  CHECK(crypto_pwhash_argon2id_str_verify(encoded, "passwore", 8) != 0);
}

TEST_CASE("Argon2id() maps its parameters to Argon2id exactly (checked via the PHC encoding)") {
  const Bytes salt = ToBytes("cairn-salt-16byt");
  const Argon2idParams params{3, 256 * 1024};
  SecretBytes key = Argon2id(AsBytes("correct horse"), salt, params).value();
  REQUIRE(key.size() == 32);
  // If passes or memory were mapped wrongly (e.g. bytes vs KiB), this encoding would not verify.
  std::string encoded = "$argon2id$v=19$m=256,t=3,p=1$" + Base64NoPad(salt) + "$" +
                        Base64NoPad(key.view());
  CHECK(crypto_pwhash_argon2id_str_verify(encoded.c_str(), "correct horse", 13) == 0);
}

TEST_CASE("Argon2id is deterministic and sensitive to every input") {
  const Bytes salt(16, 0x5a);
  const Argon2idParams p{1, 64 * 1024};
  auto derive = [](std::string_view pass, const Bytes& s, Argon2idParams params) {
    SecretBytes k = Argon2id(AsBytes(pass), s, params).value();
    return Bytes(k.view().begin(), k.view().end());
  };
  const Bytes a = derive("passphrase", salt, p);
  CHECK(derive("passphrase", salt, p) == a);
  CHECK(derive("Passphrase", salt, p) != a);
  CHECK(derive("passphrase", Bytes(16, 0x5b), p) != a);
  CHECK(derive("passphrase", salt, Argon2idParams{2, 64 * 1024}) != a);
  CHECK(derive("passphrase", salt, Argon2idParams{1, 128 * 1024}) != a);
  CHECK(Argon2id(AsBytes("x"), salt, p, 64).value().size() == 64);
}

TEST_CASE("Argon2id refuses parameters outside its bounds, naming them") {
  const Bytes salt(16, 1);
  CHECK(Argon2id(AsBytes("x"), salt, {0, 64 * 1024}).status().message() ==
        "argon2id: passes must be 1..64, got 0");
  CHECK(Argon2id(AsBytes("x"), salt, {65, 64 * 1024}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(Argon2id(AsBytes("x"), salt, {1, 4096}).status().code() == StatusCode::kInvalidArgument);
  CHECK(Argon2id(AsBytes("x"), salt, {1, 2ull << 30}).status().message() ==
        "argon2id: memory must be 8 KiB..1 GiB, got 2147483648 bytes");
  CHECK(Argon2id(AsBytes("x"), Bytes(8), {1, 64 * 1024}).status().message() ==
        "argon2id: salt must be 16 bytes, got 8");
  CHECK(ValidateArgon2idParams(kArgon2OwaspMinimum).ok());
}

}  // namespace
}  // namespace cairn::crypto
