// Normalizers: the first step of encoding, text to text (internal to the tokenizer).
//
// Supported "type"s: NFC, NFD, Lowercase, Replace, Prepend, Strip, StripAccents, BertNormalizer,
// Sequence. NFKC/NFKD (compatibility tables are not generated) and Precompiled (SentencePiece's
// charsmap) are kUnsupported at load. Semantics follow the reference implementation
// (@huggingface/tokenizers).
#ifndef CAIRN_CORE_TOKENIZER_NORMALIZER_H_
#define CAIRN_CORE_TOKENIZER_NORMALIZER_H_

#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/tokenizer/json_util.h"

namespace cairn::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // `text` is valid UTF-8; so is the result.
  virtual std::string Normalize(std::string_view text) const = 0;
};

// Builds the normalizer described at `path` (e.g. "normalizer"). Null JSON is not accepted
// here; callers skip a null normalizer.
Result<std::unique_ptr<Normalizer>> MakeNormalizer(const Json& config, std::string_view path);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_NORMALIZER_H_
