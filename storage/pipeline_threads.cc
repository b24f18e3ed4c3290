// Pipeline for native builds: one worker thread runs the stages, one at a time.
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "storage/pipeline.h"

namespace cairn::storage {

struct Pipeline::Impl {
  std::mutex mu;
  std::condition_variable cv;
  std::function<void()> stage;  // set by Run(), taken by the worker
  bool busy = false;            // the worker is running a stage
  bool stop = false;
  bool no_thread = false;  // the thread could not be started: run stages inline
  std::thread worker;

  void Loop() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || stage; });
      if (!stage) return;  // stop, and nothing left to run
      std::function<void()> run = std::move(stage);
      stage = nullptr;  // a moved-from function is unspecified; make "taken" explicit
      busy = true;
      lock.unlock();
      run();
      lock.lock();
      busy = false;
      cv.notify_all();
    }
  }

  void WaitIdle(std::unique_lock<std::mutex>& lock) {
    cv.wait(lock, [&] { return !stage && !busy; });
  }
};

Pipeline::Pipeline() : impl_(std::make_unique<Impl>()) {}

Pipeline::~Pipeline() {
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->WaitIdle(lock);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

void Pipeline::Run(std::function<void()> stage) {
  Impl& m = *impl_;
  if (!m.worker.joinable() && !m.no_thread) {
    try {
      m.worker = std::thread([&m] { m.Loop(); });
    } catch (const std::system_error&) {
      m.no_thread = true;  // out of threads: still correct, only not concurrent
    }
  }
  if (m.no_thread) {
    stage();
    return;
  }
  {
    std::unique_lock<std::mutex> lock(m.mu);
    m.WaitIdle(lock);
    m.stage = std::move(stage);
  }
  m.cv.notify_all();
}

void Pipeline::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->WaitIdle(lock);
}

bool Pipeline::Concurrent() { return true; }

}  // namespace cairn::storage
