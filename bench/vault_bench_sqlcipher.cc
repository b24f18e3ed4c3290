// The vault workload on SQLCipher (Debian's libsqlcipher, default settings: AES-256-CBC with
// HMAC-SHA512 per page, PBKDF2 key derivation at open, which is not timed).
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/vault_workload.h"

int main() {
  std::string t = (std::filesystem::temp_directory_path() / "cairn-bench-XXXXXX").string();
  const std::string dir = mkdtemp(t.data());
  sqlite3* db = nullptr;
  cairn::bench::Check(db, sqlite3_open((dir + "/sqlcipher.db").c_str(), &db), "open sqlcipher");
  cairn::bench::Exec(db, "PRAGMA key = 'benchmark passphrase';");
  cairn::bench::RunWorkload(db, "sqlcipher");
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
  return 0;
}
