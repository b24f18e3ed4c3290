#include "core/crypto/key_wrap.h"

#include <sodium.h>

#include <cstring>
#include <string>

#include "core/crypto/aead.h"
#include "core/crypto/random.h"
#include "core/crypto/sodium.h"

namespace cairn::crypto {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kMagic[3] = {'C', 'K', 'W'};

Bytes AssociatedData(ByteView header, ByteView context) {
  Bytes ad(header.begin(), header.end());
  ad.insert(ad.end(), context.begin(), context.end());
  return ad;
}

}  // namespace

Result<Bytes> WrapKey(ByteView kek, ByteView data_key, ByteView context) {
  if (data_key.empty()) return InvalidArgument("key wrap: the data key is empty");
  Bytes out(kKeyWrapOverhead + data_key.size());
  MutableByteView all(out);
  out[0] = kMagic[0];
  out[1] = kMagic[1];
  out[2] = kMagic[2];
  out[3] = kVersion;
  MutableByteView nonce = all.subspan(kKeyWrapHeaderBytes, kAeadNonceBytes);
  RandomFill(nonce);
  Bytes ad = AssociatedData(all.first(kKeyWrapHeaderBytes), context);
  Status s = AeadEncryptDetached(kek, nonce, ad, data_key,
                                 all.subspan(kKeyWrapHeaderBytes + kAeadNonceBytes, data_key.size()),
                                 all.last(kAeadTagBytes));
  if (!s.ok()) return s.WithContext("key wrap");
  return out;
}

Result<SecretBytes> UnwrapKey(ByteView kek, ByteView wrapped, ByteView context) {
  if (wrapped.size() <= kKeyWrapOverhead || wrapped[0] != kMagic[0] || wrapped[1] != kMagic[1] ||
      wrapped[2] != kMagic[2]) {
    return Corruption("key unwrap: the input (" + std::to_string(wrapped.size()) +
                      " bytes) is not a wrapped key");
  }
  if (wrapped[3] != kVersion) {
    return Unsupported("key unwrap: wrapped-key format version " + std::to_string(wrapped[3]) +
                       " is newer than this build understands (1)");
  }
  SecretBytes key(wrapped.size() - kKeyWrapOverhead);
  Bytes ad = AssociatedData(wrapped.first(kKeyWrapHeaderBytes), context);
  Status s = AeadDecryptDetached(kek, wrapped.subspan(kKeyWrapHeaderBytes, kAeadNonceBytes), ad,
                                 wrapped.subspan(kKeyWrapHeaderBytes + kAeadNonceBytes, key.size()),
                                 wrapped.last(kAeadTagBytes), key.span());
  if (s.code() == StatusCode::kAuthFailed) {
    return AuthFailed(
        "key unwrap: authentication failed: the key-encryption key is wrong (for a passphrase: "
        "wrong passphrase), or the wrapped key or its context was modified");
  }
  if (!s.ok()) return s.WithContext("key unwrap");
  return key;
}

Result<SecretBytes> DeriveSubkey(ByteView master_key, uint64_t id, std::string_view context,
                                 size_t key_bytes) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  if (master_key.size() != crypto_kdf_KEYBYTES) {
    return InvalidArgument("kdf: master key must be 32 bytes, got " +
                           std::to_string(master_key.size()));
  }
  if (context.size() != crypto_kdf_CONTEXTBYTES) {
    return InvalidArgument("kdf: context must be exactly 8 characters, got '" +
                           std::string(context) + "'");
  }
  if (key_bytes < crypto_kdf_BYTES_MIN || key_bytes > crypto_kdf_BYTES_MAX) {
    return InvalidArgument("kdf: subkey size must be 16..64 bytes");
  }
  char ctx[crypto_kdf_CONTEXTBYTES];
  std::memcpy(ctx, context.data(), sizeof ctx);
  SecretBytes out(key_bytes);
  crypto_kdf_derive_from_key(out.data(), out.size(), id, ctx, master_key.data());
  return out;
}

}  // namespace cairn::crypto
