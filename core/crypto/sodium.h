// Internal to core/crypto: libsodium initialisation.
#ifndef CAIRN_CORE_CRYPTO_SODIUM_H_
#define CAIRN_CORE_CRYPTO_SODIUM_H_

#include "core/base/status.h"

namespace cairn::crypto {

// Initialises libsodium once per process (thread-safe, idempotent). Every public crypto entry
// point calls it, so callers never need to.
Status EnsureSodium();

// For functions that cannot return a Status (random bytes): aborts if libsodium cannot start,
// because continuing without a working RNG would fail open.
void EnsureSodiumOrDie();

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_SODIUM_H_
