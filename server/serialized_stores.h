// One-call-at-a-time wrappers over cairn-server's job and device stores, with a pool of
// connections. Each inner store has one connection (SQLite or libpq) that one thread at a time
// may use; a call takes a free inner store (waiting if all are busy) and gives it back after, so
// the HTTP threads run everything else in parallel (parsing, Ed25519 verification, JSON), the
// two stores are used at the same time by different requests, and with several connections
// (PostgreSQL: --store-connections) several calls on one store too. SQLite has one connection
// per store (the server holds its databases in EXCLUSIVE locking mode). After each write the
// wrappers number it in a WalGroupSync (when the stores defer their syncs to it:
// server/wal_group_sync.h) while still holding that connection, so the numbering follows
// commit order.
//
//   SerializedJobStore jobs(std::move(sqlite_jobs), &group_sync);   // or nullptr: no numbering
//   SerializedJobStore pg(std::move(four_pg_connections), nullptr);  // a pool of four
//   JobService service(jobs, ...);   // safe from every HTTP thread and the render workers
//
// Why this is enough for the rules: JobService, DeviceAuthenticator, ApiRouter and ApiGateway
// keep no state between calls; every rule is one atomic store call (insert-if-absent, record a
// nonce) or a compare-and-swap retried on conflict, which is already how several servers share
// one PostgreSQL store (each pooled connection is one more such sharer). Threading: every
// method from any thread.
#ifndef CAIRN_SERVER_SERIALIZED_STORES_H_
#define CAIRN_SERVER_SERIALIZED_STORES_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "server/wal_group_sync.h"
#include "sync/device_store.h"
#include "sync/job_store.h"

namespace cairn::server {

// The pool under both wrappers: `Use(f)` runs f on a free inner store.
template <typename Store>
class StorePool {
 public:
  explicit StorePool(std::vector<std::unique_ptr<Store>> stores) : stores_(std::move(stores)) {
    for (size_t i = 0; i < stores_.size(); ++i) free_.push_back(i);
  }
  template <typename F>
  auto Use(F f) {
    size_t i;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      i = free_.back();
      free_.pop_back();
    }
    struct Release {
      StorePool* pool;
      size_t i;
      ~Release() {
        {
          std::lock_guard<std::mutex> lock(pool->mu_);
          pool->free_.push_back(i);
        }
        pool->cv_.notify_one();
      }
    } release{this, i};
    return f(*stores_[i]);
  }
  size_t size() const { return stores_.size(); }

 private:
  std::vector<std::unique_ptr<Store>> stores_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<size_t> free_;
};

template <typename Store>
std::vector<std::unique_ptr<Store>> One(std::unique_ptr<Store> store) {
  std::vector<std::unique_ptr<Store>> v;
  v.push_back(std::move(store));
  return v;
}

class SerializedJobStore final : public sync::JobStore {
 public:
  SerializedJobStore(std::unique_ptr<sync::JobStore> inner, WalGroupSync* sync)
      : SerializedJobStore(One(std::move(inner)), sync) {}
  // A pool: `inner` are connections to one store.
  SerializedJobStore(std::vector<std::unique_ptr<sync::JobStore>> inner, WalGroupSync* sync)
      : pool_(std::move(inner)), sync_(sync) {}

  Result<sync::InsertOutcome> InsertOrGet(const sync::StoredJob& job) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.InsertOrGet(job);
      Wrote();
      return r;
    });
  }
  Result<std::optional<sync::StoredJob>> Get(std::string_view id) override {
    return pool_.Use([&](auto& inner) { return inner.Get(id); });
  }
  Result<std::vector<sync::StoredJob>> ChangesSince(std::string_view device_id, int64_t since,
                                                    int limit) override {
    return pool_.Use([&](auto& inner) { return inner.ChangesSince(device_id, since, limit); });
  }
  Result<sync::FeedChanges> FeedSince(std::string_view device_id, int64_t since,
                                      int limit) override {
    return pool_.Use([&](auto& inner) { return inner.FeedSince(device_id, since, limit); });
  }
  Result<std::optional<sync::ExpiredJob>> GetExpired(std::string_view id) override {
    return pool_.Use([&](auto& inner) { return inner.GetExpired(id); });
  }
  Result<std::vector<sync::ExpiredJob>> ExpireFinished(int64_t changed_before_ms, int64_t now_ms,
                                                       int limit) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.ExpireFinished(changed_before_ms, now_ms, limit);
      Wrote();
      return r;
    });
  }
  Result<std::vector<sync::StoredJob>> Claimable(int64_t now_ms, int limit) override {
    return pool_.Use([&](auto& inner) { return inner.Claimable(now_ms, limit); });
  }
  Result<std::optional<sync::StoredJob>> CompareAndSwap(const sync::StoredJob& job) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.CompareAndSwap(job);
      Wrote();
      return r;
    });
  }
  Result<std::optional<sync::StoredJob>> ClaimNext(int64_t now_ms,
                                                   const sync::ClaimRule& rule) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.ClaimNext(now_ms, rule);
      Wrote();
      return r;
    });
  }

 private:
  void Wrote() {
    if (sync_ != nullptr) sync_->NoteWrite();
  }
  StorePool<sync::JobStore> pool_;
  WalGroupSync* sync_;
};

class SerializedDeviceStore final : public sync::DeviceStore {
 public:
  SerializedDeviceStore(std::unique_ptr<sync::DeviceStore> inner, WalGroupSync* sync)
      : SerializedDeviceStore(One(std::move(inner)), sync) {}
  SerializedDeviceStore(std::vector<std::unique_ptr<sync::DeviceStore>> inner, WalGroupSync* sync)
      : pool_(std::move(inner)), sync_(sync) {}

  Result<sync::DeviceInsertOutcome> InsertOrGet(const sync::StoredDevice& device) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.InsertOrGet(device);
      Wrote();
      return r;
    });
  }
  Result<std::optional<sync::StoredDevice>> Get(std::string_view id) override {
    return pool_.Use([&](auto& inner) { return inner.Get(id); });
  }
  Result<sync::NonceOutcome> RecordNonce(std::string_view device_id, std::string_view nonce,
                                         int64_t expires_at_ms, int64_t now_ms,
                                         int64_t max_per_device) override {
    return pool_.Use([&](auto& inner) {
      auto r = inner.RecordNonce(device_id, nonce, expires_at_ms, now_ms, max_per_device);
      Wrote();
      return r;
    });
  }
  Result<int64_t> CountNonces() override {
    return pool_.Use([&](auto& inner) { return inner.CountNonces(); });
  }

 private:
  void Wrote() {
    if (sync_ != nullptr) sync_->NoteWrite();
  }
  StorePool<sync::DeviceStore> pool_;
  WalGroupSync* sync_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERIALIZED_STORES_H_
