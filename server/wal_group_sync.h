// WalGroupSync: group commit for cairn-server's SQLite stores. The stores run with
// synchronous=NORMAL (deferred_sync: a commit is written to the WAL in the OS's page cache, no
// fsync), and before the server answers a request it waits here until everything written up to
// then is on stable storage: one fdatasync of each WAL file makes every commit before it
// durable, so one sync serves all the requests that committed while the previous one ran.
// Requests keep committing (under the stores' own locks) while a sync is in flight.
//
//   WalGroupSync sync({data_dir + "/jobs.db", data_dir + "/devices.db"});
//   ... a store call commits ...;  sync.NoteWrite();   // under the store's lock, after it
//   const uint64_t upto = sync.Written();   // after handling: covers what the request wrote
//                                           // and every commit it could have read
//   Status s = sync.WaitDurable(upto);      // then answer (503 if it failed)
//
// The guarantee is synchronous=FULL's: an acknowledged write survives the process, the OS or
// the power failing (as far as the disk honours a flush); without the wait it would survive a
// process crash only. Why it is sound: a write gets its number after its commit returned, so
// every number up to Written() belongs to a commit already in the WAL file, and a sync that
// starts after a request read Written() covers it. fdatasync flushes the file, whichever
// descriptor wrote it, so syncing SQLite's WAL through a descriptor of our own is enough. SQLite
// itself syncs the WAL before each checkpoint copies it into the database, and the database
// after, so frames a later WAL restart overwrites were durable already.
// Scope: the writes of this process's connections (readers in other processes could see
// commits before they are durable; cairn-server is the only process on its data directory).
// Threading: all methods from any thread. WaitDurable blocks the caller for one or two syncs.
#ifndef CAIRN_SERVER_WAL_GROUP_SYNC_H_
#define CAIRN_SERVER_WAL_GROUP_SYNC_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/status.h"

namespace cairn::server {

class WalGroupSync {
 public:
  // `databases`: paths of SQLite databases in WAL mode; their "-wal" files are synced.
  explicit WalGroupSync(std::vector<std::string> databases);
  ~WalGroupSync();
  WalGroupSync(const WalGroupSync&) = delete;
  WalGroupSync& operator=(const WalGroupSync&) = delete;

  // Numbers a write whose commit has returned; call it before the store's lock is released.
  void NoteWrite() { written_.fetch_add(1, std::memory_order_acq_rel); }
  uint64_t Written() const { return written_.load(std::memory_order_acquire); }

  // Returns once the writes numbered up to `upto` are on stable storage: at once if a sync that
  // began after them has finished, else after the sync in flight (if it began too early) and one
  // more, made by the first caller to get there. kIoError if a sync failed (the writes may be
  // lost: the caller must not acknowledge them; a later sync retries).
  Status WaitDurable(uint64_t upto);

  struct Stats {
    uint64_t syncs = 0;     // group syncs made
    uint64_t waiters = 0;   // WaitDurable calls that had to wait
    double sync_seconds = 0;  // time spent in the group syncs
  };
  Stats stats() const;

 private:
  Status SyncAll();
  void Helper();  // syncs files_[1..] while the caller syncs files_[0]

  struct File {
    std::string wal_path;
    int fd = -1;
    uint64_t dev = 0, ino = 0;
  };
  std::vector<File> files_;  // touched only by the syncing caller (and the helper, for [1..])
  std::atomic<uint64_t> written_{0};
  mutable std::mutex mu_;
  // Waiters the sync in flight covers wait on cvs_[cur_]; those that need the next one on
  // cvs_[1 - cur_], so a finished sync wakes only the requests it made durable (and one more
  // to lead the next), not every thread waiting.
  std::condition_variable cvs_[2];
  int cur_ = 0;
  bool syncing_ = false;
  uint64_t inflight_target_ = 0;  // what the sync in flight covers
  uint64_t durable_ = 0;  // every write up to here is on stable storage
  uint64_t syncs_ = 0, waiters_ = 0;
  double sync_seconds_ = 0;
  // The helper thread: the other WAL files are flushed at the same time as the first.
  std::mutex helper_mu_;
  std::condition_variable helper_cv_;
  uint64_t helper_asked_ = 0, helper_done_ = 0;
  bool helper_stop_ = false;
  Status helper_status_;
  std::thread helper_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WAL_GROUP_SYNC_H_
