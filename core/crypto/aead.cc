#include "core/crypto/aead.h"

#include <sodium.h>

#include <string>

#include "core/crypto/random.h"
#include "core/crypto/sodium.h"

namespace cairn::crypto {
namespace {

static_assert(kAeadKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);

Status CheckSize(const char* what, size_t got, size_t want) {
  if (got == want) return Status::Ok();
  return InvalidArgument(std::string("aead: ") + what + " must be " + std::to_string(want) +
                         " bytes, got " + std::to_string(got));
}

Status CheckKeyAndNonce(ByteView key, ByteView nonce) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(CheckSize("key", key.size(), kAeadKeyBytes));
  return CheckSize("nonce", nonce.size(), kAeadNonceBytes);
}

Status AuthFailure() {
  return AuthFailed(
      "aead: authentication failed (wrong key, or the ciphertext, its nonce, tag or associated "
      "data was modified)");
}

}  // namespace

Status AeadEncryptDetached(ByteView key, ByteView nonce, ByteView associated_data,
                           ByteView plaintext, MutableByteView ciphertext_out,
                           MutableByteView tag_out) {
  CAIRN_RETURN_IF_ERROR(CheckKeyAndNonce(key, nonce));
  CAIRN_RETURN_IF_ERROR(CheckSize("ciphertext buffer", ciphertext_out.size(), plaintext.size()));
  CAIRN_RETURN_IF_ERROR(CheckSize("tag buffer", tag_out.size(), kAeadTagBytes));
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      ciphertext_out.data(), tag_out.data(), nullptr, plaintext.data(), plaintext.size(),
      associated_data.data(), associated_data.size(), nullptr, nonce.data(), key.data());
  return Status::Ok();
}

Status AeadDecryptDetached(ByteView key, ByteView nonce, ByteView associated_data,
                           ByteView ciphertext, ByteView tag, MutableByteView plaintext_out) {
  CAIRN_RETURN_IF_ERROR(CheckKeyAndNonce(key, nonce));
  CAIRN_RETURN_IF_ERROR(CheckSize("tag", tag.size(), kAeadTagBytes));
  CAIRN_RETURN_IF_ERROR(CheckSize("plaintext buffer", plaintext_out.size(), ciphertext.size()));
  // libsodium verifies the tag before it writes anything, so on failure the output (which may
  // be the ciphertext itself) is unchanged.
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
          plaintext_out.data(), nullptr, ciphertext.data(), ciphertext.size(), tag.data(),
          associated_data.data(), associated_data.size(), nonce.data(), key.data()) != 0) {
    return AuthFailure();
  }
  return Status::Ok();
}

Status AeadVerifyDetached(ByteView key, ByteView nonce, ByteView associated_data,
                          ByteView ciphertext, ByteView tag) {
  CAIRN_RETURN_IF_ERROR(CheckKeyAndNonce(key, nonce));
  CAIRN_RETURN_IF_ERROR(CheckSize("tag", tag.size(), kAeadTagBytes));
  // With no output buffer libsodium computes and checks the Poly1305 tag only.
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
          nullptr, nullptr, ciphertext.data(), ciphertext.size(), tag.data(),
          associated_data.data(), associated_data.size(), nonce.data(), key.data()) != 0) {
    return AuthFailure();
  }
  return Status::Ok();
}

Result<Bytes> AeadSeal(ByteView key, ByteView plaintext, ByteView associated_data) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  CAIRN_RETURN_IF_ERROR(CheckSize("key", key.size(), kAeadKeyBytes));
  Bytes out(kAeadSealOverhead + plaintext.size());
  MutableByteView all(out);
  MutableByteView nonce = all.first(kAeadNonceBytes);
  RandomFill(nonce);
  CAIRN_RETURN_IF_ERROR(AeadEncryptDetached(
      key, nonce, associated_data, plaintext, all.subspan(kAeadNonceBytes, plaintext.size()),
      all.last(kAeadTagBytes)));
  return out;
}

Result<SecretBytes> AeadOpen(ByteView key, ByteView sealed, ByteView associated_data) {
  if (sealed.size() < kAeadSealOverhead) {
    return Corruption("aead: sealed message is " + std::to_string(sealed.size()) +
                      " bytes, shorter than the " + std::to_string(kAeadSealOverhead) +
                      "-byte nonce and tag: truncated");
  }
  SecretBytes plain(sealed.size() - kAeadSealOverhead);
  CAIRN_RETURN_IF_ERROR(AeadDecryptDetached(
      key, sealed.first(kAeadNonceBytes), associated_data,
      sealed.subspan(kAeadNonceBytes, plain.size()), sealed.last(kAeadTagBytes), plain.span()));
  return plain;
}

}  // namespace cairn::crypto
