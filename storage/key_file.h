// The vault key file: the wrapped database key and what is needed to unwrap it.
//
// The database key is random; it is stored only wrapped (core/crypto/key_wrap.h), by a key
// derived from the passphrase with Argon2id and/or by a device key the host holds (a
// non-extractable WebCrypto key in the browser). The file has two 512-byte slots; a write goes
// to the slot not holding the newest copy and is synced, and a read takes the newest slot whose
// checksum holds, so a crash mid-write (a torn slot) leaves the previous copy in force. No rename
// is needed, which OPFS does not offer. Layout: storage/FORMAT.md.
#ifndef CAIRN_STORAGE_KEY_FILE_H_
#define CAIRN_STORAGE_KEY_FILE_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/crypto/password_hash.h"

namespace cairn::storage {

inline constexpr size_t kKeyFileSlotBytes = 512;
inline constexpr size_t kMaxWrappedKeyBytes = 128;

struct KeyFileContents {
  uint64_t sequence = 0;  // set by WriteKeyFile
  Bytes vault_id;         // 16 bytes
  crypto::Argon2idParams kdf;
  Bytes salt;                // 16 bytes when passphrase_wrapped is set
  Bytes passphrase_wrapped;  // empty: no passphrase
  Bytes device_wrapped;      // empty: no device key
  // Which database file holds the vault: 0 is vault.db, n is vault-n.db. A rekey writes the
  // re-encrypted copy as the next generation and switches by writing the key file.
  uint32_t db_generation = 0;
};

// kNotFound if there is no key file; kCorruption naming the file if no slot is valid.
Result<KeyFileContents> ReadKeyFile(sqlite3_vfs* vfs, const std::string& path);
// Writes `contents` with the next sequence number (updates contents->sequence) and syncs.
Status WriteKeyFile(sqlite3_vfs* vfs, const std::string& path, KeyFileContents* contents);

// The slot codec, exposed for tests and the fuzzers.
Result<Bytes> EncodeKeySlot(const KeyFileContents& contents);
Result<KeyFileContents> DecodeKeySlot(ByteView slot);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_KEY_FILE_H_
