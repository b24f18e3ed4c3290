#include "core/decoding/json_schema.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <set>

namespace cairn::decoding {
namespace {

using nlohmann::json;

bool PlainAscii(const std::string& s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

// The characters of a pattern "^[^...]*$" (a string of none of them), each printable ASCII,
// '\\' escaping the next; any other pattern is refused by name.
Result<std::string> ExcludedChars(const std::string& pattern, const std::string& path) {
  const std::string head = "^[^", tail = "]*$";
  const auto unsupported = [&] {
    return Unsupported("schema " + path + ".pattern: only \"^[^...]*$\" (characters a string "
                       "may not contain, printable ASCII) is supported, not \"" + pattern + "\"");
  };
  if (pattern.size() <= head.size() + tail.size() || pattern.compare(0, head.size(), head) != 0 ||
      pattern.compare(pattern.size() - tail.size(), tail.size(), tail) != 0) {
    return unsupported();
  }
  std::string out;
  const std::string body = pattern.substr(head.size(), pattern.size() - head.size() - tail.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\') {
      if (++i == body.size()) return unsupported();
      c = body[i];
      if (std::isalnum(static_cast<unsigned char>(c))) return unsupported();  // \d, \w, \n...
    } else if (c == '[' || c == ']' || c == '^' || c == '-') {
      return unsupported();  // ambiguous unescaped: a class, its end, negation or a range
    }
    if (c < 0x20 || c > 0x7e) return unsupported();
    if (out.find(c) == std::string::npos) out += c;
  }
  return out;
}

class Builder {
 public:
  Result<int> Add(const json& j, const std::string& path, int depth) {
    if (depth > 8) return Unsupported("schema " + path + ": nested deeper than 8");
    if (!j.is_object()) return InvalidArgument("schema " + path + ": must be an object");
    static const std::set<std::string> kIgnored = {"description", "title", "$schema", "$id",
                                                   "additionalProperties"};
    static const std::set<std::string> kKnown = {"type",  "properties", "required", "items",
                                                 "minItems", "maxItems", "maxLength", "enum",
                                                 "pattern"};
    for (const auto& [k, v] : j.items()) {
      if (kIgnored.count(k)) {
        if (k == "additionalProperties" && !(v.is_boolean() && !v.get<bool>())) {
          return Unsupported("schema " + path + ": only additionalProperties: false is supported");
        }
        continue;
      }
      if (!kKnown.count(k)) return Unsupported("schema " + path + ": keyword '" + k + "' is not supported");
    }
    SchemaNode n;
    std::string type;
    if (j.contains("type")) {
      if (!j["type"].is_string()) return InvalidArgument("schema " + path + ".type: must be a string");
      type = j["type"].get<std::string>();
    } else if (j.contains("enum")) {
      type = "string";
    } else {
      return InvalidArgument("schema " + path + ": needs a type");
    }
    if (j.contains("enum")) {
      if (type != "string" || !j["enum"].is_array() || j["enum"].empty()) {
        return Unsupported("schema " + path + ".enum: only a non-empty list of strings");
      }
      for (const json& e : j["enum"]) {
        if (!e.is_string() || !PlainAscii(e.get<std::string>()) || e.get<std::string>().empty()) {
          return Unsupported("schema " + path + ".enum: values must be non-empty printable ASCII");
        }
        n.enum_values.push_back(e.get<std::string>());
      }
    }
    const int index = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    if (type == "object") {
      n.type = SchemaNode::Type::kObject;
      if (!j.contains("properties") || !j["properties"].is_object() || j["properties"].empty()) {
        return InvalidArgument("schema " + path + ": an object needs properties");
      }
      if (j["properties"].size() > 64) return Unsupported("schema " + path + ": over 64 properties");
      for (const auto& [name, sub] : j["properties"].items()) {
        if (!PlainAscii(name) || name.empty()) {
          return Unsupported("schema " + path + ": property names must be printable ASCII");
        }
        CAIRN_ASSIGN_OR_RETURN(int child, Add(sub, path + "." + name, depth + 1));
        n.property_names.push_back(name);
        n.property_schemas.push_back(child);
      }
      if (j.contains("required")) {
        if (!j["required"].is_array()) return InvalidArgument("schema " + path + ".required: must be a list");
        for (const json& r : j["required"]) {
          bool found = false;
          for (size_t i = 0; i < n.property_names.size(); ++i) {
            if (r.is_string() && n.property_names[i] == r.get<std::string>()) {
              n.required_mask |= uint64_t{1} << i;
              found = true;
            }
          }
          if (!found) return InvalidArgument("schema " + path + ".required: names an unknown property");
        }
      }
    } else if (type == "array") {
      n.type = SchemaNode::Type::kArray;
      if (!j.contains("items")) return InvalidArgument("schema " + path + ": an array needs items");
      CAIRN_ASSIGN_OR_RETURN(n.items, Add(j["items"], path + "[]", depth + 1));
      if (j.contains("minItems")) n.min_items = j["minItems"].get<int>();
      if (j.contains("maxItems")) n.max_items = j["maxItems"].get<int>();
      if (n.min_items < 0 || n.max_items < n.min_items || n.max_items > 1024) {
        return InvalidArgument("schema " + path + ": need 0 <= minItems <= maxItems <= 1024");
      }
    } else if (type == "string") {
      n.type = SchemaNode::Type::kString;
      if (j.contains("maxLength")) {
        if (!j["maxLength"].is_number_unsigned()) {
          return InvalidArgument("schema " + path + ".maxLength: must be a non-negative integer");
        }
        n.max_length = j["maxLength"].get<int>();
      }
      if (j.contains("pattern")) {
        if (!j["pattern"].is_string()) {
          return InvalidArgument("schema " + path + ".pattern: must be a string");
        }
        CAIRN_ASSIGN_OR_RETURN(n.excluded, ExcludedChars(j["pattern"].get<std::string>(), path));
      }
    } else if (type == "number") {
      n.type = SchemaNode::Type::kNumber;
    } else if (type == "integer") {
      n.type = SchemaNode::Type::kInteger;
    } else if (type == "boolean") {
      n.type = SchemaNode::Type::kBoolean;
    } else {
      return Unsupported("schema " + path + ": type '" + type + "' is not supported");
    }
    nodes_[index] = std::move(n);
    return index;
  }
  std::vector<SchemaNode> nodes_;
};

}  // namespace

Result<Schema> Schema::Parse(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("schema is not valid JSON: ") + e.what());
  }
  Builder b;
  try {
    CAIRN_ASSIGN_OR_RETURN(int root, b.Add(j, "$", 0));
    return Schema{std::move(b.nodes_), root};
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("schema: ") + e.what());
  }
}

}  // namespace cairn::decoding
