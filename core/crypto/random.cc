#include "core/crypto/random.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/crypto/sodium.h"

namespace cairn::crypto {

// getentropy(): the kernel's getrandom() natively, crypto.getRandomValues() under Emscripten,
// in one call per 256 bytes. (libsodium's own randombytes_buf under Emscripten makes one call
// into JavaScript per byte, which made an 8 MiB test take 40 s.) Fails closed: without entropy
// nothing may continue.
void RandomFill(MutableByteView out) {
  constexpr size_t kMaxPerCall = 256;  // getentropy's limit
  for (size_t done = 0; done < out.size();) {
    const size_t n = std::min(kMaxPerCall, out.size() - done);
    if (getentropy(out.data() + done, n) != 0) {
      std::fprintf(stderr, "cairn: getentropy failed: no secure random source\n");
      std::abort();
    }
    done += n;
  }
}

Bytes RandomBytes(size_t size) {
  Bytes out(size);
  RandomFill(out);
  return out;
}

SecretBytes RandomSecret(size_t size) {
  SecretBytes out(size);
  RandomFill(out.span());
  return out;
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  EnsureSodiumOrDie();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cairn::crypto
