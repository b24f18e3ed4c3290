// Pre-tokenizers: split normalized text into the pieces the model encodes one by one (internal
// to the tokenizer).
//
// Supported "type"s: ByteLevel, Split, Digits, Metaspace, Whitespace, WhitespaceSplit,
// BertPreTokenizer, Punctuation, Replace, Sequence. Semantics follow the reference
// (@huggingface/tokenizers 0.2), including its quirks: Split keeps matches as their own pieces
// for every behavior except "Removed"; ByteLevel maps each piece's UTF-8 bytes to the GPT-2
// byte alphabet.
#ifndef CAIRN_CORE_TOKENIZER_PRE_TOKENIZER_H_
#define CAIRN_CORE_TOKENIZER_PRE_TOKENIZER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/json_util.h"

namespace cairn::tokenizer {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Appends the pieces of `text` to *out. `section_index` is the index of the text's section
  // between added tokens (Metaspace's prepend_scheme "first" uses it).
  virtual void Split(std::string_view text, int section_index,
                     std::vector<std::string>* out) const = 0;
};

Result<std::unique_ptr<PreTokenizer>> MakePreTokenizer(const Json& config, std::string_view path);

// The GPT-2 byte-to-code-point alphabet used by ByteLevel (and its inverse; -1 for code points
// outside the alphabet).
char32_t ByteToUnicode(uint8_t byte);
int UnicodeToByte(char32_t cp);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_PRE_TOKENIZER_H_
