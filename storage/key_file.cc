#include "storage/key_file.h"

#include <cstring>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "storage/vfs_file.h"

namespace cairn::storage {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'K', 'E', 'Y'};
constexpr uint32_t kVersion = 1;
constexpr size_t kChecksumOffset = kKeyFileSlotBytes - 32;

// Offsets within a slot.
constexpr size_t kOffVersion = 8, kOffSequence = 12, kOffVaultId = 20, kOffPasses = 36,
                 kOffMemory = 44, kOffSalt = 52, kOffPwLen = 68, kOffPw = 70,
                 kOffDevLen = kOffPw + kMaxWrappedKeyBytes, kOffDev = kOffDevLen + 2;
constexpr size_t kOffGeneration = kOffDev + kMaxWrappedKeyBytes;
static_assert(kOffGeneration + 4 <= kChecksumOffset);

void PutLe(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

Result<Bytes> EncodeKeySlot(const KeyFileContents& c) {
  if (c.vault_id.size() != 16) return InvalidArgument("key file: vault id must be 16 bytes");
  if (c.passphrase_wrapped.size() > kMaxWrappedKeyBytes ||
      c.device_wrapped.size() > kMaxWrappedKeyBytes) {
    return InvalidArgument("key file: wrapped key too large");
  }
  if (c.passphrase_wrapped.empty() && c.device_wrapped.empty()) {
    return InvalidArgument("key file: no wrapped key (neither passphrase nor device key)");
  }
  if (!c.passphrase_wrapped.empty() && c.salt.size() != crypto::kArgon2SaltBytes) {
    return InvalidArgument("key file: salt must be 16 bytes");
  }
  Bytes slot(kKeyFileSlotBytes, 0);
  uint8_t* p = slot.data();
  std::memcpy(p, kMagic, 8);
  PutLe(p + kOffVersion, kVersion, 4);
  PutLe(p + kOffSequence, c.sequence, 8);
  std::memcpy(p + kOffVaultId, c.vault_id.data(), 16);
  PutLe(p + kOffPasses, c.kdf.passes, 8);
  PutLe(p + kOffMemory, c.kdf.memory_bytes, 8);
  if (!c.salt.empty()) std::memcpy(p + kOffSalt, c.salt.data(), 16);
  PutLe(p + kOffPwLen, c.passphrase_wrapped.size(), 2);
  if (!c.passphrase_wrapped.empty()) {
    std::memcpy(p + kOffPw, c.passphrase_wrapped.data(), c.passphrase_wrapped.size());
  }
  PutLe(p + kOffDevLen, c.device_wrapped.size(), 2);
  if (!c.device_wrapped.empty()) {
    std::memcpy(p + kOffDev, c.device_wrapped.data(), c.device_wrapped.size());
  }
  PutLe(p + kOffGeneration, c.db_generation, 4);
  CAIRN_ASSIGN_OR_RETURN(Bytes sum, crypto::Blake2bHash(ByteView(slot).first(kChecksumOffset), 32));
  std::memcpy(p + kChecksumOffset, sum.data(), 32);
  return slot;
}

Result<KeyFileContents> DecodeKeySlot(ByteView slot) {
  if (slot.size() != kKeyFileSlotBytes) return Corruption("key slot has the wrong size");
  const uint8_t* p = slot.data();
  if (std::memcmp(p, kMagic, 8) != 0) return Corruption("key slot has no CAIRNKEY magic");
  CAIRN_ASSIGN_OR_RETURN(Bytes sum, crypto::Blake2bHash(slot.first(kChecksumOffset), 32));
  if (!crypto::ConstantTimeEquals(sum, slot.subspan(kChecksumOffset, 32))) {
    return Corruption("key slot checksum does not match (torn or damaged)");
  }
  const uint64_t version = GetLe(p + kOffVersion, 4);
  if (version != kVersion) {
    return Unsupported("key file format version " + std::to_string(version) +
                       " is not supported by this build (1)");
  }
  KeyFileContents c;
  c.sequence = GetLe(p + kOffSequence, 8);
  c.vault_id.assign(p + kOffVaultId, p + kOffVaultId + 16);
  c.kdf.passes = GetLe(p + kOffPasses, 8);
  c.kdf.memory_bytes = GetLe(p + kOffMemory, 8);
  c.salt.assign(p + kOffSalt, p + kOffSalt + 16);
  const size_t pw_len = GetLe(p + kOffPwLen, 2);
  const size_t dev_len = GetLe(p + kOffDevLen, 2);
  if (pw_len > kMaxWrappedKeyBytes || dev_len > kMaxWrappedKeyBytes) {
    return Corruption("key slot: wrapped key length out of range");
  }
  c.passphrase_wrapped.assign(p + kOffPw, p + kOffPw + pw_len);
  c.device_wrapped.assign(p + kOffDev, p + kOffDev + dev_len);
  c.db_generation = static_cast<uint32_t>(GetLe(p + kOffGeneration, 4));
  if (pw_len > 0) {
    Status s = crypto::ValidateArgon2idParams(c.kdf);
    if (!s.ok()) return Corruption("key slot: " + s.message());
  }
  return c;
}

Result<KeyFileContents> ReadKeyFile(sqlite3_vfs* vfs, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(VfsFile f, VfsFile::Open(vfs, path, VfsFile::Mode::kRead));
  Bytes both(2 * kKeyFileSlotBytes);
  CAIRN_ASSIGN_OR_RETURN(size_t n, f.Read(0, both));
  Result<KeyFileContents> best = Corruption("");
  std::string why;
  for (size_t slot = 0; slot < 2; ++slot) {
    if (n < (slot + 1) * kKeyFileSlotBytes) {
      why += " slot " + std::to_string(slot) + ": missing;";
      continue;
    }
    Result<KeyFileContents> c =
        DecodeKeySlot(ByteView(both).subspan(slot * kKeyFileSlotBytes, kKeyFileSlotBytes));
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kUnsupported) return c.status().WithContext(path);
      why += " slot " + std::to_string(slot) + ": " + c.status().message() + ";";
      continue;
    }
    if (!best.ok() || c->sequence > best->sequence) best = std::move(c);
  }
  if (!best.ok()) {
    return Corruption(path + ": no valid key slot, the vault key file is damaged (" + why +
                      " ). Restore it from a backup to open this vault.");
  }
  return best;
}

Status WriteKeyFile(sqlite3_vfs* vfs, const std::string& path, KeyFileContents* contents) {
  uint64_t next = 1;
  Result<KeyFileContents> current = ReadKeyFile(vfs, path);
  if (current.ok()) next = current->sequence + 1;
  contents->sequence = next;
  CAIRN_ASSIGN_OR_RETURN(Bytes slot, EncodeKeySlot(*contents));
  CAIRN_ASSIGN_OR_RETURN(VfsFile f, VfsFile::Open(vfs, path, VfsFile::Mode::kCreate));
  // The slot not holding the newest copy: sequence numbers alternate between the two.
  const int64_t offset = static_cast<int64_t>((next % 2) * kKeyFileSlotBytes);
  CAIRN_RETURN_IF_ERROR(f.Write(offset, slot));
  return f.Sync();
}

}  // namespace cairn::storage
