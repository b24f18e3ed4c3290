// Hugging Face tokenizer.json tokenizers: encode text to token ids and decode them back.
//
//   // The host reads the file (the core does no I/O).
//   Result<Tokenizer> tok = Tokenizer::FromJson(tokenizer_json_text);
//   if (!tok.ok()) return tok.status();        // names the field that is wrong
//   Result<std::vector<int32_t>> ids = tok->Encode("Sunset at the pier 🌅", true);
//   Result<std::string> text = tok->Decode(*ids, /*skip_special_tokens=*/true);
//
//   StreamingDetokenizer stream(*tok, /*skip_special_tokens=*/true);
//   for (int32_t id : generated) ui.Append(stream.Feed(id).value());  // whole code points only
//   ui.Append(stream.Finish());
//
// Supported: byte-level BPE (GPT-2, Llama 3, Qwen), SentencePiece-style BPE with byte fallback
// (Llama 2, Gemma), WordPiece (BERT family); the normalizers, pre-tokenizers, post-processors and
// decoders those use (see normalizer.h, pre_tokenizer.h, decoder.h). Anything else in a file is
// a kUnsupported error at FromJson, never silently ignored.
//
// Conformance: encoding and decoding match the reference implementation,
// @huggingface/tokenizers 0.2 (tests/core/tokenizer/conformance_test.cc checks every string of a
// corpus against it for four real models). Known deliberate differences, none of which the
// conformance files exercise:
//   - added tokens with "single_word": true only match between non-word characters (the
//     Rust library's rule; the reference ignores the flag);
//   - the Whitespace pre-tokenizer's \w is Unicode (the Rust library's rule; the reference's is
//     ASCII-only);
//   - decoding never applies transformers' clean_up_tokenization_spaces (a tokenizer_config.json
//     option, not part of tokenizer.json); the reference's default is to apply it;
//   - Decode of no ids is "" (the reference throws);
//   - Unicode tables are 15.1 (python3's unicodedata); the reference runs on Node's ICU (16.0
//     in the build root), so code points first assigned in Unicode 16 may split differently.
//
// Text is UTF-8. The reference takes JavaScript strings, which cannot hold invalid UTF-8, so
// Encode rejects invalid UTF-8 with kInvalidArgument naming the byte offset rather than guessing.
// Decode turns byte sequences that are not valid UTF-8 into U+FFFD, as the reference does.
//
// Threading: a Tokenizer is immutable after FromJson; copies share their tables and every
// method is safe to call from several threads at once. A StreamingDetokenizer is a small
// single-threaded object.
#ifndef CAIRN_CORE_TOKENIZER_TOKENIZER_H_
#define CAIRN_CORE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn {

// Ids of the tokens a generation loop needs, where the tokenizer.json says (unk: the model's
// unk_token; bos: the first special token of the post-processor's template; pad: "padding";
// otherwise the conventional names <s> </s> <bos> <eos> <pad> [PAD] <|begin_of_text|>
// <|end_of_text|> <|endoftext|> among the special added tokens). Model configs may know better.
struct SpecialTokenIds {
  std::optional<int32_t> bos;
  std::optional<int32_t> eos;
  std::optional<int32_t> pad;
  std::optional<int32_t> unk;
};

class Tokenizer {
 public:
  // Parses a tokenizer.json document. Errors: kInvalidArgument naming the field that is wrong
  // ("tokenizer.json: model.merges[3] must be ..."), kUnsupported for a model, normalizer,
  // pre-tokenizer, post-processor or decoder type this build does not implement.
  static Result<Tokenizer> FromJson(std::string_view json);

  // Token ids for `utf8`. add_special_tokens applies the post-processor (e.g. Gemma's <bos>).
  // Special-token text inside `utf8` (e.g. "<|endoftext|>") becomes that token, as in the
  // reference. Errors: kInvalidArgument for invalid UTF-8 (naming the byte offset).
  Result<std::vector<int32_t>> Encode(std::string_view utf8, bool add_special_tokens) const;

  // Text for `ids`. skip_special_tokens drops added tokens marked special. Errors:
  // kInvalidArgument for an id outside the vocabulary (naming its position).
  Result<std::string> Decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  // One more than the largest token id (model vocab and added tokens).
  int32_t vocab_size() const;
  // The token string for an id (as stored in tokenizer.json, e.g. "Ġthe" or "▁the"), or nullopt.
  std::optional<std::string> IdToToken(int32_t id) const;
  std::optional<int32_t> TokenToId(std::string_view token) const;
  bool IsSpecial(int32_t id) const;
  const SpecialTokenIds& special_ids() const;

  // The bytes each token adds to decoded text when it follows other tokens (index = id; empty
  // for ids without a token). Byte-level and <0xNN> tokens give raw bytes that may be only part
  // of a UTF-8 sequence. Computed once at load; the reference stays valid as long as any copy of
  // this Tokenizer lives. For JSON-constrained decoding.
  const std::vector<std::string>& TokenBytes() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  friend class StreamingDetokenizer;
  std::shared_ptr<const Impl> impl_;
};

// Incremental detokenization for generation: feed ids one at a time and get the text they
// complete. Never emits part of a UTF-8 sequence: bytes of an incomplete code point are held
// until a later token completes them (an emoji split over several byte tokens appears whole).
// Bytes that can never become valid UTF-8 are emitted as U+FFFD. The concatenation of every
// Feed result and Finish() equals Tokenizer::Decode of the same ids for the supported
// decoders.
class StreamingDetokenizer {
 public:
  StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // The newly completed text (possibly empty). Errors: kInvalidArgument for an id outside the
  // vocabulary; the detokenizer's state is unchanged then.
  Result<std::string> Feed(int32_t id);
  // Ends the stream: whatever is held back, with incomplete sequences as U+FFFD. Resets the
  // detokenizer for a new stream.
  std::string Finish();

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;  // raw bytes not yet emitted
};

}  // namespace cairn

#endif  // CAIRN_CORE_TOKENIZER_TOKENIZER_H_
