// DecoderRuntime: the one interface through which a synchronous host runs a decoder-only model
// for the generation step machine (core/generation). The native host is OrtDecoder
// (ort_decoder.h); the browser drives the same step machine from JavaScript with ONNX Runtime
// Web, whose awaits cannot sit behind a synchronous C++ call.
//
//   std::unique_ptr<DecoderSequence> seq = runtime.NewSequence().value();
//   while (!g.done()) {
//     std::span<float> logits = seq->Run(g.NextFeeds()).value();   // last position only
//     g.Consume(logits);
//   }
//
// A sequence owns its KV cache (kept inside the runtime, never copied into the core); Fork
// copies it, so n candidates share one prompt prefill.
#ifndef CAIRN_CORE_RUNTIME_DECODER_RUNTIME_H_
#define CAIRN_CORE_RUNTIME_DECODER_RUNTIME_H_

#include <memory>
#include <span>
#include <string>

#include "core/base/status.h"
#include "core/generation/generation.h"

namespace cairn::runtime {

class DecoderSequence {
 public:
  virtual ~DecoderSequence() = default;
  // Runs the model on feeds.input_ids after the feeds.past_length tokens already cached (which
  // must equal past_length()); returns the last position's logits, valid until the next call
  // (the caller may modify them in place, as sampling does).
  virtual Result<std::span<float>> Run(const generation::Feeds& feeds) = 0;
  virtual Result<std::unique_ptr<DecoderSequence>> Fork() const = 0;
  virtual int64_t past_length() const = 0;
};

class DecoderRuntime {
 public:
  virtual ~DecoderRuntime() = default;
  virtual Result<std::unique_ptr<DecoderSequence>> NewSequence() = 0;
  virtual int vocab_size() const = 0;
  // The backend that actually runs, for provenance: "ort-native-cpu", "ort-web-wasm", ...
  virtual std::string backend() const = 0;
};

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_DECODER_RUNTIME_H_
