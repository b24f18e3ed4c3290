// Key wrapping: a random data key sealed under a key-encryption key (KEK).
//
// The vault's database key is wrapped by a KEK derived from the passphrase (Argon2id) or held
// by the device; changing the passphrase re-wraps the same data key without re-encrypting data.
//
// Wire format, version 1 (all sizes in bytes):
//   "CKW" (3) | version = 1 (1) | nonce (24) | XChaCha20-Poly1305(data key) | tag (16)
// The associated data is the header (4 bytes) followed by the caller's context, which binds the
// wrapped key to its purpose (e.g. "cairn/vault-key" + vault id): a wrapped key moved to another
// purpose fails to unwrap.
#ifndef CAIRN_CORE_CRYPTO_KEY_WRAP_H_
#define CAIRN_CORE_CRYPTO_KEY_WRAP_H_

#include <cstdint>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kKeyWrapHeaderBytes = 4;
inline constexpr size_t kKeyWrapOverhead = kKeyWrapHeaderBytes + 24 + 16;

Result<Bytes> WrapKey(ByteView kek, ByteView data_key, ByteView context);

// kAuthFailed when the KEK is wrong or the wrapped key or context changed; kCorruption when the
// input is not a wrapped key; kUnsupported for a newer format version.
Result<SecretBytes> UnwrapKey(ByteView kek, ByteView wrapped, ByteView context);

// A subkey for one purpose, derived from a 32-byte master key (libsodium crypto_kdf, BLAKE2b):
// `context` is exactly 8 characters naming the purpose (e.g. "cairnblb"), `id` numbers keys
// within it. Different contexts or ids give independent keys.
Result<SecretBytes> DeriveSubkey(ByteView master_key, uint64_t id, std::string_view context,
                                 size_t key_bytes = 32);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_KEY_WRAP_H_
