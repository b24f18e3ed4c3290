// Ed25519 signatures (RFC 8032): model manifests, device authentication.
#ifndef CAIRN_CORE_CRYPTO_SIGN_H_
#define CAIRN_CORE_CRYPTO_SIGN_H_

#include <cstddef>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kSignSeedBytes = 32;
inline constexpr size_t kSignPublicKeyBytes = 32;
inline constexpr size_t kSignSecretKeyBytes = 64;  // libsodium form: seed || public key
inline constexpr size_t kSignatureBytes = 64;

struct SigningKeyPair {
  Bytes public_key;
  SecretBytes secret_key;
};

SigningKeyPair GenerateSigningKeyPair();
Result<SigningKeyPair> SigningKeyPairFromSeed(ByteView seed);

Result<Bytes> Sign(ByteView secret_key, ByteView message);
// OK if `signature` is a valid signature of `message` by `public_key`; kAuthFailed if not.
Status Verify(ByteView public_key, ByteView message, ByteView signature);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_SIGN_H_
