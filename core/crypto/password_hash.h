// Argon2id (v1.3, one lane): a key from a passphrase.
//
// Parameters are explicit and bounded: the vault stores them beside the wrapped key, so a
// tampered or hostile parameter block must not be able to demand gigabytes or hours.
// Cairn's floor is OWASP's minimum for Argon2id (19 MiB, 2 passes); the vault tunes upward at
// creation. The derived key is SecretBytes, wiped when dropped.
#ifndef CAIRN_CORE_CRYPTO_PASSWORD_HASH_H_
#define CAIRN_CORE_CRYPTO_PASSWORD_HASH_H_

#include <cstddef>
#include <cstdint>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kArgon2SaltBytes = 16;

struct Argon2idParams {
  uint64_t passes = 2;                     // libsodium's opslimit
  uint64_t memory_bytes = 19ull << 20;     // libsodium's memlimit
};

// Bounds any caller may ask for (libsodium's minimum 8 KiB, 1 pass; Cairn's maximum 1 GiB,
// 64 passes). The OWASP floor is a policy the vault applies on top.
inline constexpr uint64_t kArgon2MaxMemoryBytes = 1ull << 30;
inline constexpr uint64_t kArgon2MaxPasses = 64;
inline constexpr Argon2idParams kArgon2OwaspMinimum = {2, 19ull << 20};

Status ValidateArgon2idParams(const Argon2idParams& params);

// kResourceExhausted if the memory cannot be had.
Result<SecretBytes> Argon2id(ByteView passphrase, ByteView salt, const Argon2idParams& params,
                             size_t key_bytes = 32);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_PASSWORD_HASH_H_
