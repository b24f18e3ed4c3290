// OrtTextEmbedder: an `embedding` pack with a word vocabulary (models/README.md: input_ids
// int64 [batch, sequence], 0 = padding → embedding float32 [batch, D], unit length or zero) on
// native ONNX Runtime. Text becomes ids by the pack's rule (cairn-words/1, core/tokenizer/words.h).
//
//   CAIRN_ASSIGN_OR_RETURN(LoadedPack pack, LoadPackDir(dir, trust, workspace, "native-fp32"));
//   CAIRN_ASSIGN_OR_RETURN(auto embedder, OrtTextEmbedder::Load(pack));
//   CAIRN_ASSIGN_OR_RETURN(std::vector<float> v, embedder->Embed("golden hour at the pier"));
//   float similarity = Dot(v, w);   // both unit length: the cosine similarity
//
// A text with no word in the vocabulary embeds to the zero vector (known_words() says how many
// words were found). Load checks the pack's task, vocabulary and the graph's inputs/outputs
// against the manifest variant and names what differs; ONNX Runtime's exceptions become Status.
// Threading: Embed may be called from several threads at once (ONNX Runtime's Run is).
#ifndef CAIRN_CORE_RUNTIME_ORT_TEXT_EMBEDDER_H_
#define CAIRN_CORE_RUNTIME_ORT_TEXT_EMBEDDER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/runtime/pack_dir.h"
#include "core/tokenizer/words.h"

namespace cairn::runtime {

class OrtTextEmbedder {
 public:
  struct Impl;  // ONNX Runtime types stay out of this header

  static Result<std::unique_ptr<OrtTextEmbedder>> Load(const LoadedPack& pack,
                                                       int intra_op_threads = 1);
  ~OrtTextEmbedder();

  // One text → `dimensions()` floats.
  Result<std::vector<float>> Embed(std::string_view text) const;
  // Several texts in one padded batch → one vector each, in order.
  Result<std::vector<std::vector<float>>> EmbedBatch(const std::vector<std::string>& texts) const;

  int dimensions() const;
  const tokenizer::WordVocab& vocab() const;
  // How many of text's words the vocabulary knows (0: Embed gives the zero vector).
  size_t known_words(std::string_view text) const { return vocab().Encode(text).size(); }

 private:
  explicit OrtTextEmbedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The dot product of two vectors of the same length (the cosine similarity of unit vectors).
float Dot(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_ORT_TEXT_EMBEDDER_H_
