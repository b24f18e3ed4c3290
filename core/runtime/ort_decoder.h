// OrtDecoder: the native host for decoder-only models, on ONNX Runtime's C++ API.
//
//   CAIRN_ASSIGN_OR_RETURN(Pack pack, LoadPackDir(dir, trust, workspace, "native-fp32"));
//   CAIRN_ASSIGN_OR_RETURN(auto decoder, OrtDecoder::Load(pack.File(variant->file), *variant));
//   // one per model, warmed at load, reused by every request (see decoder_runtime.h)
//   auto seq = decoder->NewSequence().value();
//   std::span<float> logits = seq->Run(feeds).value();
//   LatencySummary s = decoder->DecodeLatency();   // p50/p95 per token, for UI gating
//
// The model must have the layout of Hugging Face Optimum's decoder exports: input_ids,
// attention_mask, optionally position_ids, past_key_values.N.key/.value in; logits and
// present.N.key/.value out; float32 logits and cache. Load checks the graph's inputs and
// outputs against that layout and against the manifest variant, and names what differs.
// Every ONNX Runtime exception is caught here and becomes a Status naming the model.
//
// Threading: Load, NewSequence and the latency accessors are thread-safe; a sequence is used
// by one thread at a time, and different sequences may run concurrently.
#ifndef CAIRN_CORE_RUNTIME_ORT_DECODER_H_
#define CAIRN_CORE_RUNTIME_ORT_DECODER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/model/manifest.h"
#include "core/runtime/decoder_runtime.h"
#include "core/runtime/latency_stats.h"

struct OrtSession;  // ONNX Runtime's C handle

namespace cairn::runtime {

struct OrtDecoderOptions {
  std::string name = "model";  // for error messages, e.g. the pack id
  int intra_op_threads = 1;    // 0: ONNX Runtime's default (one per core)
  bool warm_up = true;         // one dummy run at load, so kernels are ready for the first user
  size_t latency_window = 128;
  const Clock* clock = nullptr;  // default: SystemClock
};

class OrtDecoder final : public DecoderRuntime {
 public:
  struct Impl;  // ONNX Runtime types stay out of this header

  static Result<std::unique_ptr<OrtDecoder>> Load(ByteView onnx_model,
                                                  const model::Variant& variant,
                                                  const OrtDecoderOptions& options = {});
  ~OrtDecoder() override;

  Result<std::unique_ptr<DecoderSequence>> NewSequence() override;
  int vocab_size() const override;
  std::string backend() const override { return "ort-native-cpu"; }

  int layers() const;
  bool has_position_ids() const;
  double warm_up_ms() const;
  LatencySummary PrefillLatency() const;  // per prompt run
  LatencySummary DecodeLatency() const;   // per one-token step

  // For sequences: record one run's latency.
  void Record(bool prefill, double ms);

  // The ONNX Runtime session itself, for benchmarks that compare a bare loop on the same
  // session (same weights in memory) with the engine. Owned by the decoder.
  OrtSession* ort_session() const;

 private:
  explicit OrtDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
  LatencyStats prefill_, decode_;
};

// Loads ONNX Runtime (once per process) and initializes its C++ API, for code that uses the API
// directly, compiled with ORT_API_MANUAL_INIT (benchmarks' bare loops). OrtDecoder::Load does
// this itself.
Status InitOrtApi();

// Converts the exception ONNX Runtime threw (inside a catch block) into a Status.
Status StatusFromOrtException(std::string_view what_was_done);

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_ORT_DECODER_H_
