// Cryptographically secure random bytes (getrandom natively, crypto.getRandomValues under
// WebAssembly), and constant-time comparison.
#ifndef CAIRN_CORE_CRYPTO_RANDOM_H_
#define CAIRN_CORE_CRYPTO_RANDOM_H_

#include <cstddef>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"

namespace cairn::crypto {

void RandomFill(MutableByteView out);
Bytes RandomBytes(size_t size);
SecretBytes RandomSecret(size_t size);

// True when a and b have the same length and contents; the time taken depends only on the
// length, never on where they differ. Use it for every comparison of a MAC, tag or key.
bool ConstantTimeEquals(ByteView a, ByteView b);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_RANDOM_H_
