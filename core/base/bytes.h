// Byte buffers and views, and hex for tests, logs and manifests.
#ifndef CAIRN_CORE_BASE_BYTES_H_
#define CAIRN_CORE_BASE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

// The bytes of a string, without copying.
inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Lower-case hex.
std::string ToHex(ByteView bytes);
// Parses hex (either case); whitespace is not allowed. Error names the offending position.
Result<Bytes> FromHex(std::string_view hex);

}  // namespace cairn

#endif  // CAIRN_CORE_BASE_BYTES_H_
