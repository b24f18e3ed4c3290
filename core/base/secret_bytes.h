// SecretBytes: a byte buffer for keys and plaintext secrets.
//
// Move-only; the memory is wiped (sodium_memzero, which the compiler may not elide) when the
// buffer is destroyed, moved from, or assigned over. Copying must be explicit (Clone()), so a
// secret never multiplies by accident. Not thread-safe; like std::vector.
#ifndef CAIRN_CORE_BASE_SECRET_BYTES_H_
#define CAIRN_CORE_BASE_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/base/bytes.h"

namespace cairn {

// Overwrites `data` with zeros in a way the optimizer keeps.
void SecureWipe(void* data, size_t size);

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  static SecretBytes CopyOf(ByteView bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  SecretBytes Clone() const { return CopyOf(view()); }

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ByteView view() const { return {data_.get(), size_}; }
  MutableByteView span() { return {data_.get(), size_}; }

  // Shrinks to `size` (<= size()), wiping the bytes cut off.
  void Truncate(size_t size);
  // Wipes and frees now.
  void Clear();

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

}  // namespace cairn

#endif  // CAIRN_CORE_BASE_SECRET_BYTES_H_
