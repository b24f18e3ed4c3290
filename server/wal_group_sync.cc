#include "server/wal_group_sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace cairn::server {

WalGroupSync::WalGroupSync(std::vector<std::string> databases) {
  for (std::string& db : databases) files_.push_back(File{std::move(db) + "-wal"});
  if (files_.size() > 1) helper_ = std::thread([this] { Helper(); });
}

WalGroupSync::~WalGroupSync() {
  if (helper_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(helper_mu_);
      helper_stop_ = true;
    }
    helper_cv_.notify_all();
    helper_.join();
  }
  for (File& f : files_) {
    if (f.fd >= 0) ::close(f.fd);
  }
}

namespace {

// Syncs `f`'s WAL file, (re)opening it if SQLite made a new one since (same path, new inode).
Status SyncFile(std::string& path, int& fd, uint64_t& dev, uint64_t& ino) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return IoError("cannot stat " + path + ": " + std::strerror(errno));
    }
    // No WAL (nothing written through it yet, or checkpointed and removed): the database file
    // holds everything, so sync that.
    const std::string db = path.substr(0, path.size() - 4);
    const int dbfd = ::open(db.c_str(), O_RDONLY | O_CLOEXEC);
    if (dbfd < 0) return IoError("cannot open " + db + " to sync it: " + std::strerror(errno));
    const int rc = ::fdatasync(dbfd);
    const int err = errno;
    ::close(dbfd);
    if (rc != 0) return IoError("cannot sync " + db + ": " + std::strerror(err));
    return Status::Ok();
  }
  if (fd < 0 || static_cast<uint64_t>(st.st_dev) != dev ||
      static_cast<uint64_t>(st.st_ino) != ino) {
    if (fd >= 0) ::close(fd);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("cannot open " + path + " to sync it: " + std::strerror(errno));
    struct stat opened {};
    if (::fstat(fd, &opened) != 0) return IoError("cannot stat " + path);
    dev = opened.st_dev;
    ino = opened.st_ino;
    // A new WAL file's directory entry must be durable too.
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      const int rc = ::fsync(dfd);
      ::close(dfd);
      if (rc != 0) return IoError("cannot sync the directory " + dir + ": " + std::strerror(errno));
    }
  }
  if (::fdatasync(fd) != 0) return IoError("cannot sync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

void WalGroupSync::Helper() {
  std::unique_lock<std::mutex> lock(helper_mu_);
  while (true) {
    helper_cv_.wait(lock, [&] { return helper_stop_ || helper_asked_ > helper_done_; });
    if (helper_stop_) return;
    lock.unlock();
    Status s;
    for (size_t i = 1; i < files_.size() && s.ok(); ++i) {
      s = SyncFile(files_[i].wal_path, files_[i].fd, files_[i].dev, files_[i].ino);
    }
    lock.lock();
    helper_status_ = std::move(s);
    ++helper_done_;
    helper_cv_.notify_all();
  }
}

Status WalGroupSync::SyncAll() {
  if (files_.empty()) return Status::Ok();
  if (helper_.joinable()) {
    // The WALs are independent files: flush them at the same time.
    std::lock_guard<std::mutex> lock(helper_mu_);
    ++helper_asked_;
  }
  helper_cv_.notify_all();
  Status first = SyncFile(files_[0].wal_path, files_[0].fd, files_[0].dev, files_[0].ino);
  if (!helper_.joinable()) return first;
  std::unique_lock<std::mutex> lock(helper_mu_);
  helper_cv_.wait(lock, [&] { return helper_done_ == helper_asked_; });
  return first.ok() ? helper_status_ : first;
}

Status WalGroupSync::WaitDurable(uint64_t upto) {
  std::unique_lock<std::mutex> lock(mu_);
  if (durable_ >= upto) return Status::Ok();
  ++waiters_;
  while (durable_ < upto) {
    if (syncing_) {
      // Covered by the sync in flight, or (it began before these writes) by the next one.
      cvs_[upto <= inflight_target_ ? cur_ : 1 - cur_].wait(lock);
      continue;
    }
    syncing_ = true;
    const uint64_t target = written_.load(std::memory_order_acquire);
    inflight_target_ = target;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    Status s = SyncAll();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    lock.lock();
    syncing_ = false;
    sync_seconds_ += took.count();
    if (s.ok()) {
      if (target > durable_) durable_ = target;
      ++syncs_;
    }
    cvs_[cur_].notify_all();  // the requests this sync covered (all of them, if it failed)
    cur_ = 1 - cur_;
    cvs_[cur_].notify_one();  // one of the rest leads the next sync
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

WalGroupSync::Stats WalGroupSync::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Stats{syncs_, waiters_, sync_seconds_};
}

}  // namespace cairn::server
