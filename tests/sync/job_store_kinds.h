// The JobStores and DeviceStores the job and authentication tests run against
// (tests/sync/job_service_test.cc, device_authenticator_test.cc): SQLite on every target;
// natively PostgreSQL too (job_store_kinds_native.cc; the wasm build links
// job_store_kinds_sqlite.cc). One test body, every store: the rules must not depend on it.
//
//   const std::string kind = GENERATE(from_range(JobStoreKinds()));
//   auto where = MakeStoreUnderTest(kind);           // a fresh, empty store
//   std::unique_ptr<JobStore> store = where->Open().value();
//   store.reset(); store = where->Open().value();    // a restart: the same jobs
//   std::unique_ptr<DeviceStore> devices = where->OpenDevices().value();  // beside the jobs
#ifndef CAIRN_TESTS_SYNC_JOB_STORE_KINDS_H_
#define CAIRN_TESTS_SYNC_JOB_STORE_KINDS_H_

#include <memory>
#include <string>
#include <vector>

#include "sync/device_store.h"
#include "sync/job_store.h"
#include "sync/sqlite_device_store.h"
#include "sync/sqlite_job_store.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {

class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  // Opens (again) the same store: every call sees the jobs of the calls before.
  virtual Result<std::unique_ptr<JobStore>> Open() = 0;
  // Opens (again) the device store that goes with it (devices.db; the same PostgreSQL database).
  virtual Result<std::unique_ptr<DeviceStore>> OpenDevices() = 0;
};

class SqliteStoreUnderTest final : public StoreUnderTest {
 public:
  Result<std::unique_ptr<JobStore>> Open() override {
    // The wasm build has no shared memory for WAL: one exclusive connection there.
    CAIRN_ASSIGN_OR_RETURN(auto store, SqliteJobStore::Open({dir_ / "jobs.db", nullptr, true}));
    return std::unique_ptr<JobStore>(std::move(store));
  }
  Result<std::unique_ptr<DeviceStore>> OpenDevices() override {
    CAIRN_ASSIGN_OR_RETURN(auto store,
                           SqliteDeviceStore::Open({dir_ / "devices.db", nullptr, true}));
    return std::unique_ptr<DeviceStore>(std::move(store));
  }

 private:
  testing::TempDir dir_;
};

std::vector<std::string> JobStoreKinds();
// A fresh store of `kind`; SKIPs the test if this machine cannot run that kind.
std::unique_ptr<StoreUnderTest> MakeStoreUnderTest(const std::string& kind);

}  // namespace cairn::sync

#endif  // CAIRN_TESTS_SYNC_JOB_STORE_KINDS_H_
