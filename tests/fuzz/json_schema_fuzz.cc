// The JSON Schema subset of constrained decoding (core/decoding): the schema comes from code
// today, but a model pack or a future task may supply one, and the matcher runs on every byte
// a model emits. The input is a schema, a NUL, then a document.
//
// Oracles: a document the matcher accepts as complete is JSON (nlohmann parses it); a parsed
// schema's node references stay inside it.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/decoding/json_matcher.h"
#include "core/decoding/json_schema.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::decoding;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view schema_json = input.substr(0, nul);
  const std::string_view doc = nul == std::string_view::npos ? "" : input.substr(nul + 1);

  cairn::Result<Schema> schema = Schema::Parse(schema_json);
  if (!schema.ok()) return 0;
  const int nodes = static_cast<int>(schema->nodes.size());
  CAIRN_FUZZ_CHECK(schema->root >= 0 && schema->root < nodes, "root out of range");
  for (const SchemaNode& n : schema->nodes) {
    for (int p : n.property_schemas) CAIRN_FUZZ_CHECK(p >= 0 && p < nodes, "property node");
    if (n.type == SchemaNode::Type::kArray) {
      CAIRN_FUZZ_CHECK(n.items >= 0 && n.items < nodes, "items node");
      CAIRN_FUZZ_CHECK(n.min_items <= n.max_items, "minItems > maxItems");
    }
  }
  JsonMatcher matcher(&*schema);
  size_t fed = 0;
  for (char c : doc) {
    if (!matcher.Feed(static_cast<uint8_t>(c))) break;
    ++fed;
    int remaining = 0, utf8_left = 0;
    std::string_view excluded;
    (void)matcher.InPlainStringBody(&remaining, &utf8_left, &excluded);
  }
  if (fed == doc.size() && matcher.complete()) {
    const bool json = nlohmann::json::accept(doc.begin(), doc.end());
    CAIRN_FUZZ_CHECK(json, "the matcher accepted non-JSON: " + std::string(doc));
  }
  return 0;
}
