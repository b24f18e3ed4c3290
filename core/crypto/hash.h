// Hashes: BLAKE2b (keyed or not, 16..64-byte output) and SHA-256, one-shot and streaming.
//
// BLAKE2b is Cairn's content hash (blob addresses, model-file checksums); SHA-256 is for
// interoperability (manifests that other tools check). Streaming objects are move-only, take
// any number of Update() calls, and give their digest once.
#ifndef CAIRN_CORE_CRYPTO_HASH_H_
#define CAIRN_CORE_CRYPTO_HASH_H_

#include <cstddef>
#include <memory>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kBlake2bMinBytes = 16;
inline constexpr size_t kBlake2bMaxBytes = 64;
inline constexpr size_t kBlake2bMaxKeyBytes = 64;
inline constexpr size_t kSha256Bytes = 32;

struct Blake2bState;
struct Sha256State;

class Blake2b {
 public:
  static Result<Blake2b> Create(size_t digest_size = 32, ByteView key = {});
  Blake2b(Blake2b&&) noexcept;
  Blake2b& operator=(Blake2b&&) noexcept;
  ~Blake2b();

  void Update(ByteView data);
  // The digest; kFailedPrecondition if called twice.
  Result<Bytes> Final();

  // The running state as bytes, to go on hashing after a restart (a download resumed after a
  // reload): Restore(Save()) hashes on exactly as this one would. The bytes are libsodium's
  // state for this build, tagged with its layout; Restore refuses any other (kInvalidArgument),
  // and the caller starts over. A keyed state holds the key: keep the bytes as secret as it.
  Result<Bytes> Save() const;
  static Result<Blake2b> Restore(ByteView saved);

 private:
  Blake2b();
  std::unique_ptr<Blake2bState> state_;
  size_t digest_size_ = 0;
  bool done_ = false;
};

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  void Update(ByteView data);
  Result<Bytes> Final();

 private:
  std::unique_ptr<Sha256State> state_;
  bool done_ = false;
};

Result<Bytes> Blake2bHash(ByteView data, size_t digest_size = 32, ByteView key = {});
Bytes Sha256Hash(ByteView data);

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_HASH_H_
