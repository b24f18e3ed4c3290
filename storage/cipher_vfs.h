// CipherVfs: a SQLite VFS shim that encrypts every page of a database, its rollback journal and
// its WAL with XChaCha20-Poly1305 before the bytes reach the host VFS below it.
//
// Format (storage/FORMAT.md has the details): pages are 4096 bytes and the database reserves the
// last 40 bytes of each page (SQLITE_FCNTL_RESERVE_BYTES) for a fresh random 24-byte nonce and
// the 16-byte tag. The associated data binds each page image to the vault id and to the page
// number it holds (database pages and WAL frames alike, so a checkpoint copies frames without
// re-encrypting them) or, in a rollback journal, to its offset; pages cannot be swapped between
// positions, pages or vaults. Plaintext never reaches the host VFS; a page that fails to
// authenticate makes the read fail with SQLITE_IOERR_DATA and last_error() names the file and
// page. Before SQLite recovers a WAL, the VFS checks that no committed frame is damaged (which
// SQLite would take for a crash's tear, dropping every later commit) and fails naming it.
// Contiguous writes reach the host VFS as one call, held until the next sync, read, size,
// truncate, lock or close of that file (storage/write_behind.h): in the browser each host call
// is a crossing into JS and OPFS, and a save's WAL frames would otherwise be two calls a page.
//
//   auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), key.view(), vault_id);
//   sqlite3_open_v2(path, &db, flags, (*vfs)->name());
//   ...close every connection using it before the CipherVfs is destroyed.
//
// Thread safety: one CipherVfs may serve several connections; last_error() is per VFS and
// meant for the single-writer vault. Temporary files are refused (build with SQLITE_TEMP_STORE=3,
// so SQLite keeps them in memory) rather than written in plaintext.
#ifndef CAIRN_STORAGE_CIPHER_VFS_H_
#define CAIRN_STORAGE_CIPHER_VFS_H_

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

inline constexpr int kPageSize = 4096;
inline constexpr int kPageReserve = 40;  // nonce (24) + tag (16)
inline constexpr size_t kVaultIdBytes = 16;

class CipherVfs {
 public:
  // Registers a new VFS (not the default) with a unique name over `base`.
  static Result<std::unique_ptr<CipherVfs>> Register(sqlite3_vfs* base, ByteView key,
                                                     ByteView vault_id);
  ~CipherVfs();  // unregisters; every connection using it must be closed first
  CipherVfs(const CipherVfs&) = delete;
  CipherVfs& operator=(const CipherVfs&) = delete;

  const char* name() const { return name_.c_str(); }

  // The last page that failed to authenticate ("vault.db page 7: ..."), or empty.
  std::string last_error() const;
  void clear_last_error();

  // Internal, used by the VFS callbacks.
  struct Impl;

 private:
  CipherVfs() = default;
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_CIPHER_VFS_H_
