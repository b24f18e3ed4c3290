// Reading tokenizer.json fields with errors that name the field (internal to the tokenizer).
//
// Every accessor checks the JSON type first, so nlohmann/json never throws from here; the
// tokenizer still catches its exceptions at FromJson as a backstop.
#ifndef CAIRN_CORE_TOKENIZER_JSON_UTIL_H_
#define CAIRN_CORE_TOKENIZER_JSON_UTIL_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace cairn::tokenizer {

using Json = nlohmann::json;

inline std::string JsonTypeName(const Json& j) { return j.type_name(); }

inline Status FieldError(std::string_view path, std::string_view what) {
  return InvalidArgument("tokenizer.json: " + std::string(path) + " " + std::string(what));
}

inline std::string JoinPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

// The member `key` of object `obj`, or nullptr when it is absent or null.
inline const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

inline Status RequireObject(const Json& j, std::string_view path) {
  if (!j.is_object()) return FieldError(path, "must be an object (got " + JsonTypeName(j) + ")");
  return Status::Ok();
}

inline Result<const Json*> RequireMember(const Json& obj, std::string_view key,
                                         std::string_view path) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return FieldError(JoinPath(path, key), "is missing");
  return m;
}

inline Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view path) {
  CAIRN_ASSIGN_OR_RETURN(const Json* m, RequireMember(obj, key, path));
  if (!m->is_string()) {
    return FieldError(JoinPath(path, key), "must be a string (got " + JsonTypeName(*m) + ")");
  }
  return m->get<std::string>();
}

inline Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view path,
                                     std::string fallback) {
  if (Member(obj, key) == nullptr) return fallback;
  return GetString(obj, key, path);
}

inline Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view path,
                            bool fallback) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return fallback;
  if (!m->is_boolean()) {
    return FieldError(JoinPath(path, key), "must be a boolean (got " + JsonTypeName(*m) + ")");
  }
  return m->get<bool>();
}

inline Result<int64_t> GetInt(const Json& obj, std::string_view key, std::string_view path,
                              int64_t fallback) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return fallback;
  if (!m->is_number_integer()) {
    return FieldError(JoinPath(path, key), "must be an integer (got " + JsonTypeName(*m) + ")");
  }
  return m->get<int64_t>();
}

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_JSON_UTIL_H_
