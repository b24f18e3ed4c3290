// Pipeline: a second stage that overlaps the caller's work. The blob store hashes a batch on it
// while the caller's thread encrypts the batch and does the I/O.
//
//   Pipeline p;
//   p.Run([&] { hash.Update(batch); });  // natively: starts on the pipeline's own thread
//   ... encrypt `batch` and write it ...  // meanwhile, on the caller's thread
//   p.Wait();                            // the stage has finished; its effects are visible here
//
// CMake picks the implementation: natively (pipeline_threads.cc) one worker thread, started at
// the first Run() and joined by the destructor; in the wasm build, which has no threads
// (pipeline_inline.cc), Run() runs the stage at once, before returning. Results are the same
// either way; only the timing differs. If a thread cannot be started, stages run inline too.
//
// Contract:
// - One stage at a time, in order: Run() first waits for the previous stage.
// - Until Wait() (or the next Run()) returns, the stage may still be running: the caller must
//   not change what the stage reads or writes, and the stage must not touch anything the caller
//   changes meanwhile. Stages must not throw and should not do I/O (all file access stays on the
//   caller's thread, where the VFS expects it).
// - A Pipeline belongs to one thread, its owner's. The destructor waits for a running stage, so
//   declare a Pipeline after the data its stages use.
#ifndef CAIRN_STORAGE_PIPELINE_H_
#define CAIRN_STORAGE_PIPELINE_H_

#include <functional>
#include <memory>

namespace cairn::storage {

class Pipeline {
 public:
  Pipeline();
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Starts `stage` after the previous one has finished.
  void Run(std::function<void()> stage);
  // Returns once the last stage Run() started has finished (at once if there is none).
  void Wait();

  // Whether stages can run alongside the caller in this build (false in wasm).
  static bool Concurrent();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_PIPELINE_H_
