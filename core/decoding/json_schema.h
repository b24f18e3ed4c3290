// The JSON Schema subset that constrained decoding supports: object (properties, required;
// no other keys allowed), array (items, minItems, maxItems), string (maxLength, enum, and a
// pattern of the one form "^[^...]*$": characters the string may not contain), number,
// integer, boolean, and enum of strings. Anything else is refused by name, so a schema never
// silently means less than it says.
#ifndef CAIRN_CORE_DECODING_JSON_SCHEMA_H_
#define CAIRN_CORE_DECODING_JSON_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::decoding {

struct SchemaNode {
  enum class Type { kObject, kArray, kString, kNumber, kInteger, kBoolean };
  Type type = Type::kString;
  // kObject: at most 64 properties; their names are plain ASCII (no escapes needed).
  std::vector<std::string> property_names;
  std::vector<int> property_schemas;  // node indexes
  uint64_t required_mask = 0;
  // kArray
  int items = -1;
  int min_items = 0;
  int max_items = 64;
  // kString: -1 is no limit (code points, as JSON Schema counts).
  int max_length = -1;
  std::vector<std::string> enum_values;  // plain printable ASCII
  // kString: printable ASCII characters the string may not contain, written or escaped
  // ("pattern": "^[^[\\]{}]*$" keeps JSON's brackets out of a caption).
  std::string excluded;
};

struct Schema {
  std::vector<SchemaNode> nodes;
  int root = 0;

  static Result<Schema> Parse(std::string_view json_schema);
};

}  // namespace cairn::decoding

#endif  // CAIRN_CORE_DECODING_JSON_SCHEMA_H_
