// Authenticated encryption: XChaCha20-Poly1305 (IETF), with associated data.
//
// The 24-byte nonce is large enough to be chosen at random for every message, which is what
// AeadSeal does and what callers of the detached form should do. Keys are 32 bytes.
//
//   Result<Bytes> sealed = AeadSeal(key.view(), AsBytes("draft"), AsBytes("page 7"));
//   Result<SecretBytes> plain = AeadOpen(key.view(), *sealed, AsBytes("page 7"));
//
// Failure: a wrong key, a modified byte anywhere (nonce, ciphertext, tag) or different
// associated data gives kAuthFailed; nothing is decrypted and outputs are left untouched.
#ifndef CAIRN_CORE_CRYPTO_AEAD_H_
#define CAIRN_CORE_CRYPTO_AEAD_H_

#include <cstddef>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 24;
inline constexpr size_t kAeadTagBytes = 16;
// What AeadSeal adds to a plaintext: nonce || ciphertext || tag.
inline constexpr size_t kAeadSealOverhead = kAeadNonceBytes + kAeadTagBytes;

// nonce (random) || ciphertext || tag.
Result<Bytes> AeadSeal(ByteView key, ByteView plaintext, ByteView associated_data);
Result<SecretBytes> AeadOpen(ByteView key, ByteView sealed, ByteView associated_data);

// Detached form, for formats that keep the nonce and tag apart from the ciphertext (database
// pages). `ciphertext_out` must be plaintext.size() bytes and may be the plaintext itself
// (in-place); likewise for decryption. The caller must never reuse a nonce with one key.
Status AeadEncryptDetached(ByteView key, ByteView nonce, ByteView associated_data,
                           ByteView plaintext, MutableByteView ciphertext_out,
                           MutableByteView tag_out);
Status AeadDecryptDetached(ByteView key, ByteView nonce, ByteView associated_data,
                           ByteView ciphertext, ByteView tag, MutableByteView plaintext_out);
// Checks the tag of a detached ciphertext without decrypting it (Poly1305 only): for moving
// ciphertext that must be authentic but whose plaintext is not needed.
Status AeadVerifyDetached(ByteView key, ByteView nonce, ByteView associated_data,
                          ByteView ciphertext, ByteView tag);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_AEAD_H_
