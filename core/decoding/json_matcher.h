// JsonMatcher: a byte-level pushdown automaton that accepts exactly the prefixes of JSON
// documents conforming to a Schema (json_schema.h). It is the core of JSON-constrained
// decoding: a token may be sampled only if feeding its bytes keeps the matcher alive.
//
// Formatting it allows: at most two whitespace bytes (space, tab, newline) in a row between
// tokens of the document; object keys in any order, each at most once; the simple string
// escapes (\" \\ \/ \b \f \n \r \t; no \u, which could produce lone surrogates); numbers of at
// most 15 digits (and 2 exponent digits, so a double holds it); valid UTF-8 only.
//
// Copyable and small (a fixed stack of frames); Feed() on a rejected byte leaves the matcher
// unusable, so callers that explore (TokenMasker) feed a copy.
#ifndef CAIRN_CORE_DECODING_JSON_MATCHER_H_
#define CAIRN_CORE_DECODING_JSON_MATCHER_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "core/decoding/json_schema.h"

namespace cairn::decoding {

class JsonMatcher {
 public:
  static constexpr int kMaxDepth = 12;

  explicit JsonMatcher(const Schema* schema);
  // Copies only the live part of the stack: matchers are copied at every trie node.
  JsonMatcher(const JsonMatcher& o) : schema_(o.schema_), depth_(o.depth_), done_(o.done_),
                                      root_ws_(o.root_ws_) {
    for (int i = 0; i < depth_; ++i) stack_[static_cast<size_t>(i)] = o.stack_[static_cast<size_t>(i)];
  }
  JsonMatcher& operator=(const JsonMatcher&) = default;

  // false: `byte` cannot continue a conforming document (the matcher is now unusable).
  bool Feed(uint8_t byte);
  bool Feed(std::string_view bytes);

  // A whole conforming document has been read (the end of output may come now).
  bool complete() const;
  // Nothing more can follow (the document is complete and no more whitespace is allowed).
  bool finished() const { return depth_ == 0 && done_ && root_ws_ >= 2; }

  // True inside the body of a plain (non-enum) string value, where any run of ordinary
  // characters is allowed up to *remaining code points, after *utf8_left continuation bytes
  // (each 0x80..0xBF) that finish a character already begun, except the ASCII characters in
  // *excluded (the schema's pattern; it points into the schema). (False for the few states
  // whose next continuation byte has a narrower range.)
  bool InPlainStringBody(int* remaining, int* utf8_left, std::string_view* excluded) const;

  struct Frame {
    uint8_t kind;
    uint8_t phase;
    uint8_t ws;
    uint8_t utf8_left;
    uint8_t lo, hi;
    int16_t node;
    int32_t count;
    uint64_t mask;
  };

 private:
  bool StartValue(uint8_t c);
  bool Push(const Frame& f);
  void Pop();
  bool Ws(Frame& f);
  bool FeedObject(Frame& f, uint8_t c);
  bool FeedKey(Frame& f, uint8_t c);
  bool FeedArray(Frame& f, uint8_t c);
  bool FeedString(Frame& f, uint8_t c);
  bool FeedNumber(Frame& f, uint8_t c);
  bool FeedLiteral(Frame& f, uint8_t c);
  const SchemaNode& node(int i) const { return schema_->nodes[static_cast<size_t>(i)]; }

  const Schema* schema_;
  std::array<Frame, kMaxDepth> stack_;
  int depth_ = 0;
  bool done_ = false;
  uint8_t root_ws_ = 0;
};

}  // namespace cairn::decoding

#endif  // CAIRN_CORE_DECODING_JSON_MATCHER_H_
