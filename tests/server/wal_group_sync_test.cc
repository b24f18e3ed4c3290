// WalGroupSync over a real SQLite database in WAL mode with synchronous=NORMAL: waits return
// only after a sync that began after the write, one sync serves many concurrent waiters, and a
// sync that cannot happen is an error (the server then answers 503), never a silent success.
#include "server/wal_group_sync.h"

#include <catch_amalgamated.hpp>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "storage/sqlite_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

struct Db {
  sqlite3* db;
  explicit Db(const std::string& path)
      : db(storage::OpenWalDatabase(path, nullptr, true, "CREATE TABLE t (x INTEGER)", "test",
                                    /*deferred_sync=*/true)
               .value()) {}
  ~Db() { sqlite3_close(db); }
  void Insert(WalGroupSync& sync) {
    REQUIRE(storage::Exec(db, "INSERT INTO t VALUES (1)").ok());
    sync.NoteWrite();
  }
};

TEST_CASE("a wait covers the writes before it, with one sync per group") {
  testing::TempDir dir;
  Db a(dir / "a.db"), b(dir / "b.db");
  WalGroupSync sync({dir / "a.db", dir / "b.db"});
  CHECK(sync.WaitDurable(sync.Written()).ok());  // nothing written: nothing to wait for
  CHECK(sync.stats().syncs == 0);

  a.Insert(sync);
  b.Insert(sync);
  CHECK(sync.Written() == 2);
  REQUIRE(sync.WaitDurable(sync.Written()).ok());
  CHECK(sync.stats().syncs == 1);
  REQUIRE(sync.WaitDurable(2).ok());  // already durable: no second sync
  CHECK(sync.stats().syncs == 1);

  // Many writers at once: every wait returns OK, and the syncs are fewer than the waits.
  constexpr int kThreads = 8, kEach = 50;
  std::atomic<int> failed{0};
  std::mutex db_mu;  // the connection is used one call at a time, as the server's stores are
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        {
          std::lock_guard<std::mutex> lock(db_mu);
          if (!storage::Exec(a.db, "INSERT INTO t VALUES (2)").ok()) ++failed;
          sync.NoteWrite();
        }
        if (!sync.WaitDurable(sync.Written()).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  const WalGroupSync::Stats s = sync.stats();
  INFO("syncs " << s.syncs << " for " << s.waiters << " waits");
  CHECK(s.syncs >= 2);
  CHECK(s.syncs <= 1 + kThreads * kEach);
  CHECK(s.waiters <= 1 + kThreads * kEach);
}

TEST_CASE("a sync that fails is an error for the waiter, and a later one retries") {
  testing::TempDir dir;
  const std::string sub = dir / "sub";
  std::filesystem::create_directory(sub);
  auto db = std::make_unique<Db>(sub + "/a.db");
  WalGroupSync sync({sub + "/a.db"});
  db->Insert(sync);
  REQUIRE(sync.WaitDurable(sync.Written()).ok());
  // The files vanish under the server (an operator's mistake, a failing disk): the next sync
  // cannot reach the database, so the write it was to make durable is not acknowledged.
  db.reset();
  db = std::make_unique<Db>(dir / "other.db");  // a write numbered in the same sequence
  sync.NoteWrite();
  std::filesystem::remove_all(sub);
  Status s = sync.WaitDurable(sync.Written());
  CHECK(s.code() == StatusCode::kIoError);
  CHECK(s.message().find(sub) != std::string::npos);
  CHECK(sync.WaitDurable(sync.Written()).code() == StatusCode::kIoError);  // tried again
}

}  // namespace
}  // namespace cairn::server
