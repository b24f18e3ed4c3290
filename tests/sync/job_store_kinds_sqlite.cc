// The wasm build's store kinds: SQLite only (no libpq, no sockets).
#include "tests/sync/job_store_kinds.h"

namespace cairn::sync {

std::vector<std::string> JobStoreKinds() { return {"sqlite"}; }

std::unique_ptr<StoreUnderTest> MakeStoreUnderTest(const std::string& kind) {
  return std::make_unique<SqliteStoreUnderTest>();
}

}  // namespace cairn::sync
