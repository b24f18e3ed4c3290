#include "core/crypto/key_wrap.h"

#include <catch_amalgamated.hpp>
#include <sodium.h>

#include "core/crypto/aead.h"
#include "core/crypto/random.h"

namespace cairn::crypto {
namespace {

TEST_CASE("a wrapped key unwraps under the same KEK and context") {
  SecretBytes kek = RandomSecret(32);
  SecretBytes data_key = RandomSecret(32);
  Bytes wrapped = WrapKey(kek.view(), data_key.view(), AsBytes("cairn/vault-key v1")).value();
  CHECK(wrapped.size() == kKeyWrapOverhead + 32);
  SecretBytes back = UnwrapKey(kek.view(), wrapped, AsBytes("cairn/vault-key v1")).value();
  CHECK(ConstantTimeEquals(back.view(), data_key.view()));
  // A fresh nonce per wrap: wrapping twice gives different bytes.
  CHECK(WrapKey(kek.view(), data_key.view(), {}).value() !=
        WrapKey(kek.view(), data_key.view(), {}).value());
}

TEST_CASE("the wrong KEK says so, hinting at a wrong passphrase") {
  SecretBytes kek = RandomSecret(32);
  SecretBytes wrong = RandomSecret(32);
  Bytes wrapped = WrapKey(kek.view(), RandomSecret(32).view(), {}).value();
  Status s = UnwrapKey(wrong.view(), wrapped, {}).status();
  CHECK(s.code() == StatusCode::kAuthFailed);
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("wrong passphrase"));
}

TEST_CASE("a wrapped key moved to another context does not unwrap") {
  SecretBytes kek = RandomSecret(32);
  Bytes wrapped = WrapKey(kek.view(), RandomSecret(32).view(), AsBytes("vault A")).value();
  CHECK(UnwrapKey(kek.view(), wrapped, AsBytes("vault B")).status().code() ==
        StatusCode::kAuthFailed);
}

TEST_CASE("every modified byte of a wrapped key is caught") {
  SecretBytes kek = RandomSecret(32);
  const Bytes wrapped = WrapKey(kek.view(), RandomSecret(32).view(), AsBytes("ctx")).value();
  for (size_t i = 0; i < wrapped.size(); ++i) {
    Bytes bad = wrapped;
    bad[i] ^= 0x10;
    Status s = UnwrapKey(kek.view(), bad, AsBytes("ctx")).status();
    REQUIRE_FALSE(s.ok());
    if (i < 3) {
      CHECK(s.code() == StatusCode::kCorruption);  // magic
    } else if (i == 3) {
      CHECK(s.code() == StatusCode::kUnsupported);  // version
    } else {
      CHECK(s.code() == StatusCode::kAuthFailed);
    }
  }
}

TEST_CASE("truncated and foreign inputs are not wrapped keys") {
  SecretBytes kek = RandomSecret(32);
  Bytes wrapped = WrapKey(kek.view(), RandomSecret(32).view(), {}).value();
  Bytes cut(wrapped.begin(), wrapped.begin() + kKeyWrapOverhead);
  CHECK(UnwrapKey(kek.view(), cut, {}).status().code() == StatusCode::kCorruption);
  CHECK(UnwrapKey(kek.view(), ToBytes("not a key at all, just some text here ......."), {})
            .status()
            .code() == StatusCode::kCorruption);
  CHECK(WrapKey(kek.view(), {}, {}).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("subkeys are deterministic and independent per context and id") {
  // libsodium's crypto_kdf is BLAKE2b keyed by the master key, with the id as salt and the
  // context as personalisation; checked here against that definition directly.
  Bytes master(32);
  for (int i = 0; i < 32; ++i) master[i] = static_cast<uint8_t>(i);
  SecretBytes a = DeriveSubkey(master, 1, "cairnblb").value();
  CHECK(ConstantTimeEquals(a.view(), DeriveSubkey(master, 1, "cairnblb").value().view()));
  CHECK_FALSE(ConstantTimeEquals(a.view(), DeriveSubkey(master, 2, "cairnblb").value().view()));
  CHECK_FALSE(ConstantTimeEquals(a.view(), DeriveSubkey(master, 1, "cairnxxx").value().view()));
  uint8_t salt[16] = {1};  // id 1, little-endian, then zeros
  uint8_t personal[16] = {'c', 'a', 'i', 'r', 'n', 'b', 'l', 'b'};
  uint8_t want[32];
  crypto_generichash_blake2b_salt_personal(want, 32, nullptr, 0, master.data(), 32, salt, personal);
  CHECK(ConstantTimeEquals(a.view(), ByteView(want, 32)));
  CHECK(DeriveSubkey(master, 1, "short").status().code() == StatusCode::kInvalidArgument);
  CHECK(DeriveSubkey(Bytes(16), 1, "cairnblb").status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::crypto
