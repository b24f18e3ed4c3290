#include "core/crypto/sodium.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace cairn::crypto {

Status EnsureSodium() {
  static const int result = sodium_init();  // 0 first time, 1 if already done, -1 on failure
  if (result < 0) return Internal("libsodium failed to initialise (sodium_init returned -1)");
  return Status::Ok();
}

void EnsureSodiumOrDie() {
  Status s = EnsureSodium();
  if (!s.ok()) {
    std::fprintf(stderr, "cairn: %s\n", s.ToString().c_str());
    std::abort();
  }
}

}  // namespace cairn::crypto
