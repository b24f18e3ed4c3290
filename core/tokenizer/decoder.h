// Decoders: token strings back to text (internal to the tokenizer).
//
// Supported "type"s: ByteLevel, ByteFallback, Metaspace, WordPiece, BPEDecoder, Replace, Fuse,
// Strip, Sequence. Semantics follow the reference (@huggingface/tokenizers 0.2). Besides decoding
// whole sequences, a decoder can produce the raw bytes of one token in context, which the
// streaming detokenizer and the per-token byte strings (constrained decoding) need.
#ifndef CAIRN_CORE_TOKENIZER_DECODER_H_
#define CAIRN_CORE_TOKENIZER_DECODER_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/json_util.h"

namespace cairn::tokenizer {

struct DecodeContext {
  enum Mode {
    kText,        // whole-sequence decoding: byte runs become text (invalid UTF-8 -> U+FFFD)
    kBytesFirst,  // one token, first in its sequence, as raw bytes
    kBytesMid,    // one token somewhere after the first, as raw bytes (no leading-space strip)
  };
  Mode mode = kText;
  // Added-token contents; the ByteLevel decoder passes them through as text.
  const std::unordered_set<std::string>* added_tokens = nullptr;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const = 0;
};

Result<std::unique_ptr<Decoder>> MakeDecoder(const Json& config, std::string_view path);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_DECODER_H_
