// One-call-at-a-time wrappers over cairn-server's job and device stores. Each store has one
// connection (SQLite or libpq) that one thread at a time may use; the wrappers take a mutex of
// their own around every call, so the HTTP threads run everything else in parallel (parsing,
// Ed25519 verification, JSON) and the two stores are used at the same time by different
// requests. After each write they number it in a WalGroupSync (when the stores defer their
// syncs to it: server/wal_group_sync.h) while still holding the lock, so the numbering follows
// commit order.
//
//   SerializedJobStore jobs(std::move(sqlite_jobs), &group_sync);   // or nullptr: no numbering
//   JobService service(jobs, ...);   // safe from every HTTP thread and the render workers
//
// Why this is enough for the rules: JobService, DeviceAuthenticator, ApiRouter and ApiGateway
// keep no state between calls; every rule is one atomic store call (insert-if-absent, record a
// nonce) or a compare-and-swap retried on conflict, which is already how several servers share
// one PostgreSQL store. Threading: every method from any thread.
#ifndef CAIRN_SERVER_SERIALIZED_STORES_H_
#define CAIRN_SERVER_SERIALIZED_STORES_H_

#include <memory>
#include <mutex>

#include "server/wal_group_sync.h"
#include "sync/device_store.h"
#include "sync/job_store.h"

namespace cairn::server {

class SerializedJobStore final : public sync::JobStore {
 public:
  SerializedJobStore(std::unique_ptr<sync::JobStore> inner, WalGroupSync* sync)
      : inner_(std::move(inner)), sync_(sync) {}

  Result<sync::InsertOutcome> InsertOrGet(const sync::StoredJob& job) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = inner_->InsertOrGet(job);
    Wrote();
    return r;
  }
  Result<std::optional<sync::StoredJob>> Get(std::string_view id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Get(id);
  }
  Result<std::vector<sync::StoredJob>> ChangesSince(std::string_view device_id, int64_t since,
                                                    int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->ChangesSince(device_id, since, limit);
  }
  Result<std::vector<sync::StoredJob>> Claimable(int64_t now_ms, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Claimable(now_ms, limit);
  }
  Result<std::optional<sync::StoredJob>> CompareAndSwap(const sync::StoredJob& job) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = inner_->CompareAndSwap(job);
    Wrote();
    return r;
  }
  Result<std::optional<sync::StoredJob>> ClaimNext(int64_t now_ms,
                                                   const sync::ClaimRule& rule) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = inner_->ClaimNext(now_ms, rule);
    Wrote();
    return r;
  }

 private:
  void Wrote() {
    if (sync_ != nullptr) sync_->NoteWrite();
  }
  std::unique_ptr<sync::JobStore> inner_;
  WalGroupSync* sync_;
  std::mutex mu_;
};

class SerializedDeviceStore final : public sync::DeviceStore {
 public:
  SerializedDeviceStore(std::unique_ptr<sync::DeviceStore> inner, WalGroupSync* sync)
      : inner_(std::move(inner)), sync_(sync) {}

  Result<sync::DeviceInsertOutcome> InsertOrGet(const sync::StoredDevice& device) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = inner_->InsertOrGet(device);
    Wrote();
    return r;
  }
  Result<std::optional<sync::StoredDevice>> Get(std::string_view id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Get(id);
  }
  Result<sync::NonceOutcome> RecordNonce(std::string_view device_id, std::string_view nonce,
                                         int64_t expires_at_ms, int64_t now_ms,
                                         int64_t max_per_device) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = inner_->RecordNonce(device_id, nonce, expires_at_ms, now_ms, max_per_device);
    Wrote();
    return r;
  }
  Result<int64_t> CountNonces() override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->CountNonces();
  }

 private:
  void Wrote() {
    if (sync_ != nullptr) sync_->NoteWrite();
  }
  std::unique_ptr<sync::DeviceStore> inner_;
  WalGroupSync* sync_;
  std::mutex mu_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERIALIZED_STORES_H_
