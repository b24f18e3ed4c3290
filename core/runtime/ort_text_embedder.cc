#include "core/runtime/ort_text_embedder.h"

#include <algorithm>

#include "core/runtime/ort_decoder.h"  // StatusFromOrtException
#include "core/runtime/ort_session.h"

namespace cairn::runtime {

struct OrtTextEmbedder::Impl {
  std::string name;
  Ort::Session session{nullptr};
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  tokenizer::WordVocab vocab;
  int dims = 0;
};

OrtTextEmbedder::OrtTextEmbedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrtTextEmbedder::~OrtTextEmbedder() = default;

int OrtTextEmbedder::dimensions() const { return impl_->dims; }
const tokenizer::WordVocab& OrtTextEmbedder::vocab() const { return impl_->vocab; }

Result<std::unique_ptr<OrtTextEmbedder>> OrtTextEmbedder::Load(const LoadedPack& pack,
                                                               int intra_op_threads) {
  const model::Manifest& m = pack.manifest;
  const std::string name = "model " + m.id;
  if (m.task != "embedding") {
    return Status(StatusCode::kInvalidArgument, name + " is a '" + m.task +
                                                    "' pack, not an embedding pack");
  }
  if (m.text_vocab.empty() || m.text_rule != tokenizer::kWordsRule) {
    return Status(StatusCode::kUnsupported,
                  name + " has no word vocabulary ('text' with rule " + tokenizer::kWordsRule +
                      "): only word-vector embedding packs are supported");
  }
  const model::Variant& v = pack.variant();
  if (v.runtime != "ort-native") {
    return Status(StatusCode::kInvalidArgument,
                  name + ": variant " + v.name + " is for " + v.runtime + ", not ort-native");
  }
  if (v.inputs.size() != 1 || v.inputs[0].name != "input_ids" || v.inputs[0].type != "int64" ||
      v.outputs.size() != 1 || v.outputs[0].name != "embedding" ||
      v.outputs[0].type != "float32" || v.outputs[0].shape.size() != 2) {
    return Status(StatusCode::kCorruption,
                  name + ": variant " + v.name +
                      " must take input_ids (int64) and give embedding (float32 [batch, D])");
  }
  CAIRN_RETURN_IF_ERROR(InitOrtApi());  // Impl holds ONNX Runtime objects
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  const std::string& d = v.outputs[0].shape[1];
  const auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (d.empty() || d.size() > 5 || !std::all_of(d.begin(), d.end(), digit) || std::stoi(d) < 1) {
    return Status(StatusCode::kCorruption,
                  name + ": the embedding size '" + d + "' is not a number");
  }
  impl->dims = std::stoi(d);
  Result<tokenizer::WordVocab> vocab = tokenizer::WordVocab::Parse(pack.Text(m.text_vocab));
  if (!vocab.ok()) return vocab.status().WithContext(name + " (" + m.text_vocab + ")");
  impl->vocab = std::move(vocab).value();

  Ort::SessionOptions so{nullptr};
  try {
    so = Ort::SessionOptions();
    so.SetIntraOpNumThreads(intra_op_threads);
    so.SetInterOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  } catch (...) {
    return StatusFromOrtException(name + ": session options");
  }
  CAIRN_ASSIGN_OR_RETURN(impl->session,
                         NewOrtSession(pack.File(v.file), so, name + " (" + v.file + "): loading"));
  try {
    // The graph itself must be what the manifest says.
    Ort::AllocatorWithDefaultOptions alloc;
    if (impl->session.GetInputCount() != 1 || impl->session.GetOutputCount() != 1 ||
        std::string(impl->session.GetInputNameAllocated(0, alloc).get()) != "input_ids" ||
        std::string(impl->session.GetOutputNameAllocated(0, alloc).get()) != "embedding") {
      return Status(StatusCode::kCorruption,
                    name + " (" + v.file + "): the graph's inputs/outputs are not input_ids → "
                           "embedding as its manifest says");
    }
  } catch (...) {
    return StatusFromOrtException(name + ": reading its inputs and outputs");
  }
  return std::unique_ptr<OrtTextEmbedder>(new OrtTextEmbedder(std::move(impl)));
}

Result<std::vector<std::vector<float>>> OrtTextEmbedder::EmbedBatch(
    const std::vector<std::string>& texts) const {
  std::vector<std::vector<float>> out;
  if (texts.empty()) return out;
  std::vector<std::vector<int64_t>> ids;
  size_t width = 1;
  for (const std::string& t : texts) {
    ids.push_back(impl_->vocab.Encode(t));
    width = std::max(width, ids.back().size());
  }
  std::vector<int64_t> feed(texts.size() * width, 0);  // 0: padding
  for (size_t i = 0; i < ids.size(); ++i) {
    std::copy(ids[i].begin(), ids[i].end(), feed.begin() + static_cast<long>(i * width));
  }
  try {
    const int64_t shape[2] = {static_cast<int64_t>(texts.size()), static_cast<int64_t>(width)};
    Ort::Value input =
        Ort::Value::CreateTensor<int64_t>(impl_->cpu, feed.data(), feed.size(), shape, 2);
    const char* in_names[] = {"input_ids"};
    const char* out_names[] = {"embedding"};
    std::vector<Ort::Value> result =
        impl_->session.Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1);
    const std::vector<int64_t> got = result[0].GetTensorTypeAndShapeInfo().GetShape();
    if (got.size() != 2 || got[0] != shape[0] || got[1] != impl_->dims) {
      return Status(StatusCode::kCorruption,
                    impl_->name + ": the embedding has an unexpected shape");
    }
    const float* data = result[0].GetTensorData<float>();
    for (size_t i = 0; i < texts.size(); ++i) {
      out.emplace_back(data + i * impl_->dims, data + (i + 1) * impl_->dims);
    }
  } catch (...) {
    return StatusFromOrtException(impl_->name + ": embedding");
  }
  return out;
}

Result<std::vector<float>> OrtTextEmbedder::Embed(std::string_view text) const {
  CAIRN_ASSIGN_OR_RETURN(auto batch, EmbedBatch({std::string(text)}));
  return std::move(batch[0]);
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace cairn::runtime
