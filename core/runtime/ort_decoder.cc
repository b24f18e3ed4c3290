#include "core/runtime/ort_decoder.h"

// ONNX Runtime is loaded at first use (see LoadOrt), so the C++ API is initialized by hand
// (ort_session.h includes its header with ORT_API_MANUAL_INIT).
#include "core/runtime/ort_session.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <set>

namespace cairn::runtime {

Status StatusFromOrtException(std::string_view what_was_done) {
  const std::string prefix = std::string(what_was_done) + ": ";
  try {
    throw;
  } catch (const Ort::Exception& e) {
    StatusCode code = StatusCode::kInternal;
    switch (e.GetOrtErrorCode()) {
      case ORT_INVALID_ARGUMENT: code = StatusCode::kInvalidArgument; break;
      case ORT_NO_SUCHFILE: code = StatusCode::kNotFound; break;
      case ORT_NO_MODEL:
      case ORT_INVALID_PROTOBUF:
      case ORT_INVALID_GRAPH:
      case ORT_MODEL_LOADED: code = StatusCode::kCorruption; break;
      case ORT_NOT_IMPLEMENTED: code = StatusCode::kUnsupported; break;
      default: break;
    }
    return Status(code, prefix + "ONNX Runtime: " + e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, prefix + "out of memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, prefix + e.what());
  }
}

namespace {

// Debian's libonnxruntime links libonnx, and both register ONNX's operator schemas (when the
// first model is loaded), so that prints hundreds of "Schema error: ... already registered"
// lines on stderr (harmless: the second registration is ignored). So the library is opened with
// dlopen at first use, and the Env and the first session are created with stderr pointed at
// /dev/null: a tool's output stays clean, and a binary that never runs a model never loads
// ONNX Runtime. Errors still become Status values with ONNX Runtime's message.
class QuietStderr {
 public:
  QuietStderr() {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved_ >= 0 && null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
    if (null_fd >= 0) ::close(null_fd);
  }
  ~QuietStderr() {
    std::fflush(stderr);
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
    }
  }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  int saved_ = -1;
};

Ort::Env* g_env = nullptr;
std::once_flag g_first_session;

Status StartOrt() {
  using GetApiBase = const OrtApiBase* (*)();
  void* lib = ::dlopen(CAIRN_ONNXRUNTIME_PATH, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* error = ::dlerror();
    return Status(StatusCode::kUnavailable, std::string("cannot load ONNX Runtime (") +
                                                CAIRN_ONNXRUNTIME_PATH + "): " +
                                                (error ? error : "unknown error"));
  }
  auto get = reinterpret_cast<GetApiBase>(::dlsym(lib, "OrtGetApiBase"));
  const OrtApi* api = get ? get()->GetApi(ORT_API_VERSION) : nullptr;
  if (api == nullptr) {
    return Status(StatusCode::kUnsupported, std::string("ONNX Runtime at ") +
                                                CAIRN_ONNXRUNTIME_PATH +
                                                " does not offer API version " +
                                                std::to_string(ORT_API_VERSION));
  }
  Ort::InitApi(api);
  try {
    g_env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "cairn");  // process-wide, never destroyed
  } catch (...) {
    return StatusFromOrtException("starting ONNX Runtime");
  }
  return Status::Ok();
}

Status LoadOrt() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    QuietStderr quiet;
    status = StartOrt();
  });
  return status;
}

Ort::Env& Env() { return *g_env; }

double ElapsedMs(const Clock& clock, int64_t start_ns) {
  return static_cast<double>(clock.MonotonicNanos() - start_ns) / 1e6;
}

}  // namespace

Status InitOrtApi() { return LoadOrt(); }

Result<Ort::Session> NewOrtSession(ByteView onnx_model, const Ort::SessionOptions& options,
                                   std::string_view what) {
  CAIRN_RETURN_IF_ERROR(LoadOrt());
  try {
    Ort::Session session{nullptr};
    bool created = false;
    std::call_once(g_first_session, [&] {
      QuietStderr quiet;
      session = Ort::Session(Env(), onnx_model.data(), onnx_model.size(), options);
      created = true;
    });
    if (!created) session = Ort::Session(Env(), onnx_model.data(), onnx_model.size(), options);
    return session;
  } catch (...) {
    return StatusFromOrtException(what);
  }
}

struct OrtDecoder::Impl {
  std::string name;
  const Clock* clock = nullptr;
  Ort::Session session{nullptr};
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<std::string> input_names, output_names;  // in the order fed / fetched
  std::vector<const char*> input_ptrs, output_ptrs;
  bool position_ids = false;
  bool use_cache_branch = false;
  int layers = 0;
  int64_t kv_heads = 0, head_dim = 0;
  int vocab = 0;
  double warm_up_ms = 0;

  Status Inspect(const model::Variant& variant);
};

Status OrtDecoder::Impl::Inspect(const model::Variant& variant) {
  Ort::AllocatorWithDefaultOptions alloc;
  std::set<std::string> inputs, outputs;
  std::vector<int64_t> past_shape;
  ONNXTensorElementDataType past_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  for (size_t i = 0; i < session.GetInputCount(); ++i) {
    std::string n = session.GetInputNameAllocated(i, alloc).get();
    if (n == "past_key_values.0.key") {
      // The shape info is a view into the type info, which must outlive it.
      Ort::TypeInfo type = session.GetInputTypeInfo(i);
      auto info = type.GetTensorTypeAndShapeInfo();
      past_shape = info.GetShape();
      past_type = info.GetElementType();
    }
    inputs.insert(n);
  }
  ONNXTensorElementDataType logits_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  for (size_t i = 0; i < session.GetOutputCount(); ++i) {
    std::string n = session.GetOutputNameAllocated(i, alloc).get();
    if (n == "logits") {
      Ort::TypeInfo type = session.GetOutputTypeInfo(i);
      auto info = type.GetTensorTypeAndShapeInfo();
      logits_type = info.GetElementType();
      auto shape = info.GetShape();
      if (shape.size() == 3 && shape[2] > 0) vocab = static_cast<int>(shape[2]);
    }
    outputs.insert(n);
  }
  const std::string where = "model " + name + " (" + variant.file + ")";
  for (const char* required : {"input_ids", "attention_mask"}) {
    if (!inputs.count(required)) {
      return Status(StatusCode::kUnsupported,
                    where + " has no input '" + required + "': not an Optimum decoder export");
    }
  }
  if (!outputs.count("logits")) {
    return Status(StatusCode::kUnsupported, where + " has no output 'logits'");
  }
  if (logits_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    return Status(StatusCode::kUnsupported, where + ": logits must be float32");
  }
  while (inputs.count("past_key_values." + std::to_string(layers) + ".key")) ++layers;
  if (layers == 0) {
    return Status(StatusCode::kUnsupported,
                  where + " has no past_key_values inputs: export it with the KV cache "
                          "(Optimum's decoder 'with past' layout)");
  }
  if (past_shape.size() != 4 || past_shape[1] <= 0 || past_shape[3] <= 0) {
    return Status(StatusCode::kUnsupported,
                  where + ": past_key_values.0.key must be [batch, heads, past, head_dim] with "
                          "fixed heads and head_dim");
  }
  if (past_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    return Status(StatusCode::kUnsupported, where + ": the KV cache must be float32");
  }
  kv_heads = past_shape[1];
  head_dim = past_shape[3];
  position_ids = inputs.count("position_ids") > 0;
  use_cache_branch = inputs.count("use_cache_branch") > 0;

  input_names = {"input_ids", "attention_mask"};
  if (position_ids) input_names.push_back("position_ids");
  if (use_cache_branch) input_names.push_back("use_cache_branch");
  output_names = {"logits"};
  for (int l = 0; l < layers; ++l) {
    for (const char* kind : {"key", "value"}) {
      const std::string past = "past_key_values." + std::to_string(l) + "." + kind;
      const std::string present = "present." + std::to_string(l) + "." + kind;
      if (!inputs.count(past)) return Status(StatusCode::kUnsupported, where + " lacks " + past);
      if (!outputs.count(present)) {
        return Status(StatusCode::kUnsupported, where + " lacks output " + present);
      }
      input_names.push_back(past);
      output_names.push_back(present);
    }
  }
  const std::set<std::string> fed(input_names.begin(), input_names.end());
  for (const std::string& n : inputs) {
    if (!fed.count(n)) {
      return Status(StatusCode::kUnsupported, where + " has an input this engine cannot feed: " + n);
    }
  }
  // The manifest states the variant's inputs and outputs; they must be the graph's.
  for (const model::TensorSpec& t : variant.inputs) {
    if (!inputs.count(t.name)) {
      return Status(StatusCode::kCorruption, where + ": the manifest lists input '" + t.name +
                                                 "' but the model has none");
    }
  }
  for (const model::TensorSpec& t : variant.outputs) {
    if (!outputs.count(t.name)) {
      return Status(StatusCode::kCorruption, where + ": the manifest lists output '" + t.name +
                                                 "' but the model has none");
    }
  }
  if (!variant.inputs.empty() && variant.inputs.size() != inputs.size()) {
    return Status(StatusCode::kCorruption,
                  where + ": the model's inputs are not the ones its manifest lists");
  }
  for (const std::string& n : input_names) input_ptrs.push_back(n.c_str());
  for (const std::string& n : output_names) output_ptrs.push_back(n.c_str());
  return Status::Ok();
}

namespace {

class OrtSequence final : public DecoderSequence {
 public:
  OrtSequence(OrtDecoder* owner, OrtDecoder::Impl* impl) : owner_(owner), impl_(impl) {}

  Status InitEmptyPast() {
    try {
      Ort::AllocatorWithDefaultOptions alloc;
      const int64_t shape[4] = {1, impl_->kv_heads, 0, impl_->head_dim};
      past_.clear();
      for (int i = 0; i < 2 * impl_->layers; ++i) {
        past_.push_back(Ort::Value::CreateTensor<float>(alloc, shape, 4));
      }
      past_length_ = 0;
      return Status::Ok();
    } catch (...) {
      return StatusFromOrtException("model " + impl_->name + ": creating the KV cache");
    }
  }

  Result<std::span<float>> Run(const generation::Feeds& feeds) override {
    if (feeds.past_length != past_length_) {
      return Status(StatusCode::kFailedPrecondition,
                    "model " + impl_->name + ": feeds expect " + std::to_string(feeds.past_length) +
                        " cached tokens but the sequence has " + std::to_string(past_length_));
    }
    if (feeds.input_ids.empty()) {
      return Status(StatusCode::kInvalidArgument, "model " + impl_->name + ": no input ids");
    }
    const Clock& clock = *impl_->clock;
    const int64_t start = clock.MonotonicNanos();
    const int64_t n = static_cast<int64_t>(feeds.input_ids.size());
    const int64_t total = past_length_ + n;
    ids_ = feeds.input_ids;
    mask_.assign(static_cast<size_t>(total), 1);
    positions_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) positions_[static_cast<size_t>(i)] = past_length_ + i;
    try {
      std::vector<Ort::Value> in;
      in.reserve(impl_->input_names.size());
      const int64_t ids_shape[2] = {1, n};
      const int64_t mask_shape[2] = {1, total};
      in.push_back(Ort::Value::CreateTensor<int64_t>(impl_->cpu, ids_.data(), ids_.size(),
                                                     ids_shape, 2));
      in.push_back(Ort::Value::CreateTensor<int64_t>(impl_->cpu, mask_.data(), mask_.size(),
                                                     mask_shape, 2));
      if (impl_->position_ids) {
        in.push_back(Ort::Value::CreateTensor<int64_t>(impl_->cpu, positions_.data(),
                                                       positions_.size(), ids_shape, 2));
      }
      if (impl_->use_cache_branch) {
        use_cache_ = past_length_ > 0;
        const int64_t scalar_shape[1] = {1};
        in.push_back(Ort::Value::CreateTensor<bool>(impl_->cpu, &use_cache_, 1, scalar_shape, 1));
      }
      for (Ort::Value& v : past_) in.push_back(std::move(v));
      past_.clear();
      std::vector<Ort::Value> out =
          impl_->session.Run(Ort::RunOptions{nullptr}, impl_->input_ptrs.data(), in.data(),
                             in.size(), impl_->output_ptrs.data(), impl_->output_ptrs.size());
      auto shape = out[0].GetTensorTypeAndShapeInfo().GetShape();
      if (shape.size() != 3 || shape[1] != n || shape[2] <= 0) {
        return Status(StatusCode::kInternal,
                      "model " + impl_->name + ": logits have an unexpected shape");
      }
      const float* logits = out[0].GetTensorData<float>();
      const size_t vocab = static_cast<size_t>(shape[2]);
      last_logits_.assign(logits + (n - 1) * vocab, logits + n * vocab);
      for (size_t i = 1; i < out.size(); ++i) past_.push_back(std::move(out[i]));
      past_length_ = total;
    } catch (...) {
      // The cache was moved into the run; a failed run leaves the sequence unusable.
      past_length_ = -1;
      return StatusFromOrtException("model " + impl_->name + ": running a step");
    }
    owner_->Record(n > 1 || feeds.past_length == 0, ElapsedMs(clock, start));
    return std::span<float>(last_logits_);
  }

  Result<std::unique_ptr<DecoderSequence>> Fork() const override {
    auto copy = std::make_unique<OrtSequence>(owner_, impl_);
    try {
      Ort::AllocatorWithDefaultOptions alloc;
      for (const Ort::Value& v : past_) {
        auto info = v.GetTensorTypeAndShapeInfo();
        auto shape = info.GetShape();
        Ort::Value c = Ort::Value::CreateTensor<float>(alloc, shape.data(), shape.size());
        std::memcpy(c.GetTensorMutableData<float>(), v.GetTensorData<float>(),
                    info.GetElementCount() * sizeof(float));
        copy->past_.push_back(std::move(c));
      }
    } catch (...) {
      return StatusFromOrtException("model " + impl_->name + ": copying the KV cache");
    }
    copy->past_length_ = past_length_;
    copy->last_logits_ = last_logits_;
    return std::unique_ptr<DecoderSequence>(std::move(copy));
  }

  int64_t past_length() const override { return past_length_; }

 private:
  OrtDecoder* owner_;
  OrtDecoder::Impl* impl_;
  std::vector<Ort::Value> past_;
  int64_t past_length_ = 0;
  std::vector<int64_t> ids_, mask_, positions_;
  bool use_cache_ = false;
  std::vector<float> last_logits_;
};

}  // namespace

OrtDecoder::OrtDecoder(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), prefill_(32), decode_(128) {}

OrtDecoder::~OrtDecoder() = default;

Result<std::unique_ptr<OrtDecoder>> OrtDecoder::Load(ByteView onnx_model,
                                                     const model::Variant& variant,
                                                     const OrtDecoderOptions& options) {
  CAIRN_RETURN_IF_ERROR(LoadOrt());
  auto impl = std::make_unique<Impl>();
  impl->name = options.name;
  impl->clock = options.clock ? options.clock : &SystemClock::Default();
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(options.intra_op_threads);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    bool created = false;
    std::call_once(g_first_session, [&] {
      QuietStderr quiet;
      impl->session = Ort::Session(Env(), onnx_model.data(), onnx_model.size(), so);
      created = true;
    });
    if (!created) impl->session = Ort::Session(Env(), onnx_model.data(), onnx_model.size(), so);
  } catch (...) {
    return StatusFromOrtException("model " + options.name + " (" + variant.file + "): loading");
  }
  try {
    CAIRN_RETURN_IF_ERROR(impl->Inspect(variant));
  } catch (...) {
    return StatusFromOrtException("model " + options.name + ": reading its inputs and outputs");
  }
  std::unique_ptr<OrtDecoder> d(new OrtDecoder(std::move(impl)));
  d->prefill_ = LatencyStats(options.latency_window);
  d->decode_ = LatencyStats(options.latency_window);
  if (options.warm_up || d->impl_->vocab == 0) {
    // A dummy prefill and one decode step compile kernels and size buffers, so the first
    // user-visible request is not the slow one; it also learns the vocabulary if the graph's
    // logits shape leaves it symbolic.
    const int64_t start = d->impl_->clock->MonotonicNanos();
    CAIRN_ASSIGN_OR_RETURN(auto seq, d->NewSequence());
    generation::Feeds f{{0, 0, 0, 0}, 0};
    CAIRN_ASSIGN_OR_RETURN(std::span<float> logits, seq->Run(f));
    d->impl_->vocab = static_cast<int>(logits.size());
    CAIRN_RETURN_IF_ERROR(seq->Run({{0}, 4}).status());
    d->impl_->warm_up_ms = ElapsedMs(*d->impl_->clock, start);
    std::lock_guard<std::mutex> lock(d->mu_);
    d->prefill_.Clear();
    d->decode_.Clear();
  }
  return d;
}

Result<std::unique_ptr<DecoderSequence>> OrtDecoder::NewSequence() {
  auto seq = std::make_unique<OrtSequence>(this, impl_.get());
  CAIRN_RETURN_IF_ERROR(seq->InitEmptyPast());
  return std::unique_ptr<DecoderSequence>(std::move(seq));
}

int OrtDecoder::vocab_size() const { return impl_->vocab; }
int OrtDecoder::layers() const { return impl_->layers; }
OrtSession* OrtDecoder::ort_session() const { return static_cast<OrtSession*>(impl_->session); }
bool OrtDecoder::has_position_ids() const { return impl_->position_ids; }
double OrtDecoder::warm_up_ms() const { return impl_->warm_up_ms; }

void OrtDecoder::Record(bool prefill, double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  (prefill ? prefill_ : decode_).Add(ms);
}

LatencySummary OrtDecoder::PrefillLatency() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prefill_.Summary();
}

LatencySummary OrtDecoder::DecodeLatency() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decode_.Summary();
}

}  // namespace cairn::runtime
