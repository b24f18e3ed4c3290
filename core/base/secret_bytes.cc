#include "core/base/secret_bytes.h"

#include <sodium.h>

#include <cstring>

namespace cairn {

void SecureWipe(void* data, size_t size) {
  if (data != nullptr && size > 0) sodium_memzero(data, size);
}

SecretBytes::SecretBytes(size_t size)
    : data_(size > 0 ? std::make_unique<uint8_t[]>(size) : nullptr), size_(size) {}

SecretBytes SecretBytes::CopyOf(ByteView bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data(), bytes.data(), bytes.size());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Clear(); }

void SecretBytes::Truncate(size_t size) {
  if (size >= size_) return;
  SecureWipe(data_.get() + size, size_ - size);
  size_ = size;
}

void SecretBytes::Clear() {
  SecureWipe(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

}  // namespace cairn
