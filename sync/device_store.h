// DeviceStore: where cairn-server keeps registered devices and the nonces of recent signed
// requests (sync/device_authenticator.h holds the rules; SQLite in sync/sqlite_device_store.h).
//
// Contract for implementations:
//   - InsertOrGet and RecordNonce are atomic and durable once they return OK, also across
//     processes sharing the store (a nonce recorded by one server process is seen by another).
//   - RecordNonce forgets nonces whose expiry is before `now_ms` (so the store holds only the
//     nonces of the last window), then remembers (device, nonce) unless it is still remembered
//     or the device already has `max_per_device` live nonces. Nothing is written unless the
//     outcome is kRecorded (pruning aside).
//   - Errors are kUnavailable (busy, retry) or kIoError/kCorruption; never a partial write.
#ifndef CAIRN_SYNC_DEVICE_STORE_H_
#define CAIRN_SYNC_DEVICE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::sync {

struct StoredDevice {
  std::string id;    // DeviceIdOf(public_key)
  Bytes public_key;  // Ed25519, 32 bytes
  int64_t registered_at_ms = 0;
  friend bool operator==(const StoredDevice&, const StoredDevice&) = default;
};

struct DeviceInsertOutcome {
  StoredDevice device;  // the stored one: the new one, or the one already there
  bool inserted = false;
};

enum class NonceOutcome {
  kRecorded,  // new: the request may go on
  kSeen,      // (device, nonce) is remembered: a replay
  kTooMany,   // the device has max_per_device live nonces: slow down
};

class DeviceStore {
 public:
  virtual ~DeviceStore() = default;
  // Inserts `device` unless a device with its id is there (returned unchanged).
  virtual Result<DeviceInsertOutcome> InsertOrGet(const StoredDevice& device) = 0;
  virtual Result<std::optional<StoredDevice>> Get(std::string_view id) = 0;
  virtual Result<NonceOutcome> RecordNonce(std::string_view device_id, std::string_view nonce,
                                           int64_t expires_at_ms, int64_t now_ms,
                                           int64_t max_per_device) = 0;
  // Live nonces (for tests and metrics).
  virtual Result<int64_t> CountNonces() = 0;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_DEVICE_STORE_H_
