#include "core/crypto/sign.h"

#include <sodium.h>

#include <string>

#include "core/crypto/sodium.h"

namespace cairn::crypto {

static_assert(kSignSeedBytes == crypto_sign_ed25519_SEEDBYTES);
static_assert(kSignPublicKeyBytes == crypto_sign_ed25519_PUBLICKEYBYTES);
static_assert(kSignSecretKeyBytes == crypto_sign_ed25519_SECRETKEYBYTES);
static_assert(kSignatureBytes == crypto_sign_ed25519_BYTES);

namespace {

Status CheckSize(const char* what, size_t got, size_t want) {
  if (got == want) return Status::Ok();
  return InvalidArgument(std::string("ed25519: ") + what + " must be " + std::to_string(want) +
                         " bytes, got " + std::to_string(got));
}

}  // namespace

SigningKeyPair GenerateSigningKeyPair() {
  EnsureSodiumOrDie();
  SigningKeyPair kp{Bytes(kSignPublicKeyBytes), SecretBytes(kSignSecretKeyBytes)};
  crypto_sign_ed25519_keypair(kp.public_key.data(), kp.secret_key.data());
  return kp;
}

Result<SigningKeyPair> SigningKeyPairFromSeed(ByteView seed) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(CheckSize("seed", seed.size(), kSignSeedBytes));
  SigningKeyPair kp{Bytes(kSignPublicKeyBytes), SecretBytes(kSignSecretKeyBytes)};
  crypto_sign_ed25519_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed.data());
  return kp;
}

Result<Bytes> Sign(ByteView secret_key, ByteView message) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(CheckSize("secret key", secret_key.size(), kSignSecretKeyBytes));
  Bytes sig(kSignatureBytes);
  crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(),
                               secret_key.data());
  return sig;
}

Status Verify(ByteView public_key, ByteView message, ByteView signature) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(CheckSize("public key", public_key.size(), kSignPublicKeyBytes));
  if (signature.size() != kSignatureBytes) {
    return AuthFailed("ed25519: signature must be 64 bytes, got " +
                      std::to_string(signature.size()));
  }
  if (crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                          public_key.data()) != 0) {
    return AuthFailed("ed25519: signature does not verify (wrong signer, or the message or "
                      "signature was modified)");
  }
  return Status::Ok();
}

}  // namespace cairn::crypto
