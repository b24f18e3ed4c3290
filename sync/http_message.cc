#include "sync/http_message.h"

namespace cairn::sync {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool SameHeaderName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (SameHeaderName(k, name)) return v;
  }
  return std::nullopt;
}

bool HasJsonContentType(const HttpRequest& r) {
  std::optional<std::string> ct = FindHeader(r.headers, "Content-Type");
  if (!ct) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v == "application/json";
}

}  // namespace cairn::sync
