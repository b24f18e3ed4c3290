// Native store kinds: SQLite, and PostgreSQL on the test process's own cluster
// (tests/support/pg_cluster.h), an empty database per store.
#include <catch_amalgamated.hpp>

#include "sync/pg_device_store.h"
#include "sync/pg_job_store.h"
#include "tests/support/pg_cluster.h"
#include "tests/sync/job_store_kinds.h"

namespace cairn::sync {
namespace {

class PgStoreUnderTest final : public StoreUnderTest {
 public:
  explicit PgStoreUnderTest(std::string url) : url_(std::move(url)) {}
  Result<std::unique_ptr<JobStore>> Open() override {
    CAIRN_ASSIGN_OR_RETURN(auto store, PgJobStore::Open({.url = url_}));
    return std::unique_ptr<JobStore>(std::move(store));
  }
  Result<std::unique_ptr<DeviceStore>> OpenDevices() override {
    CAIRN_ASSIGN_OR_RETURN(auto store, PgDeviceStore::Open({.url = url_}));
    return std::unique_ptr<DeviceStore>(std::move(store));
  }

 private:
  std::string url_;
};

}  // namespace

std::vector<std::string> JobStoreKinds() { return {"sqlite", "postgresql"}; }

std::unique_ptr<StoreUnderTest> MakeStoreUnderTest(const std::string& kind) {
  if (kind == "sqlite") return std::make_unique<SqliteStoreUnderTest>();
  std::string why;
  testing::PgCluster* pg = testing::PgCluster::Shared(&why);
  if (pg == nullptr) SKIP(why);
  return std::make_unique<PgStoreUnderTest>(pg->NewDatabase());
}

}  // namespace cairn::sync
