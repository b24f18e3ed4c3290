#include "sync/blob_store.h"

#include "core/base/bytes.h"
#include "core/crypto/hash.h"

namespace cairn::sync {

bool IsBlobHash(std::string_view text) {
  if (text.size() != kBlobHashChars) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string BlobHashOf(std::string_view bytes) {
  // 32 bytes without a key is always a valid BLAKE2b parameter set: this cannot fail.
  return ToHex(crypto::Blake2bHash(AsBytes(bytes), 32).value());
}

}  // namespace cairn::sync
