#include "storage/write_behind.h"

#include <algorithm>
#include <cstring>

namespace cairn::storage {

int WriteBehind::Flush() {
  if (held_.empty()) return SQLITE_OK;
  const int rc =
      real_->pMethods->xWrite(real_, held_.data(), static_cast<int>(held_.size()), start_);
  held_.clear();  // on failure too: see the header
  return rc;
}

int WriteBehind::Write(const void* data, int amt, int64_t off) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  const int64_t end = start_ + static_cast<int64_t>(held_.size());
  const bool joins = !held_.empty() && off >= start_ && off <= end;
  if (joins && off + amt - start_ <= kMaxHeldBytes) {
    const size_t at = static_cast<size_t>(off - start_);
    if (at + static_cast<size_t>(amt) > held_.size()) held_.resize(at + static_cast<size_t>(amt));
    std::memcpy(held_.data() + at, bytes, static_cast<size_t>(amt));
    return SQLITE_OK;
  }
  int rc = Flush();
  if (rc != SQLITE_OK) return rc;
  if (amt >= kMaxHeldBytes) return real_->pMethods->xWrite(real_, data, amt, off);
  if (held_.capacity() == 0) held_.reserve(static_cast<size_t>(kMaxHeldBytes));
  start_ = off;
  held_.assign(bytes, bytes + amt);
  return SQLITE_OK;
}

int WriteBehind::Read(void* out, int amt, int64_t off) {
  const int64_t end = start_ + static_cast<int64_t>(held_.size());
  if (!held_.empty() && off < end && off + amt > start_) {
    int rc = Flush();
    if (rc != SQLITE_OK) return rc;
  }
  return real_->pMethods->xRead(real_, out, amt, off);
}

int WriteBehind::FileSize(sqlite3_int64* size) {
  int rc = real_->pMethods->xFileSize(real_, size);
  if (rc == SQLITE_OK && !held_.empty()) {
    *size = std::max<sqlite3_int64>(*size, start_ + static_cast<int64_t>(held_.size()));
  }
  return rc;
}

int WriteBehind::Truncate(int64_t size) {
  int rc = Flush();
  if (rc != SQLITE_OK) return rc;
  return real_->pMethods->xTruncate(real_, size);
}

int WriteBehind::Sync(int flags) {
  int rc = Flush();
  if (rc != SQLITE_OK) return rc;
  return real_->pMethods->xSync(real_, flags);
}

}  // namespace cairn::storage
