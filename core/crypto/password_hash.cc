#include "core/crypto/password_hash.h"

#include <sodium.h>

#include <string>

#include "core/crypto/sodium.h"

namespace cairn::crypto {

static_assert(kArgon2SaltBytes == crypto_pwhash_argon2id_SALTBYTES);

Status ValidateArgon2idParams(const Argon2idParams& p) {
  if (p.passes < crypto_pwhash_argon2id_OPSLIMIT_MIN || p.passes > kArgon2MaxPasses) {
    return InvalidArgument("argon2id: passes must be 1.." + std::to_string(kArgon2MaxPasses) +
                           ", got " + std::to_string(p.passes));
  }
  if (p.memory_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      p.memory_bytes > kArgon2MaxMemoryBytes) {
    return InvalidArgument("argon2id: memory must be 8 KiB..1 GiB, got " +
                           std::to_string(p.memory_bytes) + " bytes");
  }
  return Status::Ok();
}

Result<SecretBytes> Argon2id(ByteView passphrase, ByteView salt, const Argon2idParams& params,
                             size_t key_bytes) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(ValidateArgon2idParams(params));
  if (salt.size() != kArgon2SaltBytes) {
    return InvalidArgument("argon2id: salt must be 16 bytes, got " + std::to_string(salt.size()));
  }
  if (key_bytes < crypto_pwhash_argon2id_BYTES_MIN || key_bytes > 1024) {
    return InvalidArgument("argon2id: key size must be 16..1024 bytes, got " +
                           std::to_string(key_bytes));
  }
  if (passphrase.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
    return InvalidArgument("argon2id: passphrase too long");
  }
  SecretBytes key(key_bytes);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                    passphrase.size(), salt.data(), params.passes,
                    static_cast<size_t>(params.memory_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhausted("argon2id: could not allocate " +
                             std::to_string(params.memory_bytes >> 20) + " MiB of memory");
  }
  return key;
}

}  // namespace cairn::crypto
