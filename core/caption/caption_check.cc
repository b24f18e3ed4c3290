#include "core/caption/caption_check.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace cairn::caption {
namespace {

// Decodes one code point at s[i]; returns its length (invalid input was rejected earlier).
int Decode(std::string_view s, size_t i, uint32_t* cp) {
  const auto c = static_cast<uint8_t>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  if (i + static_cast<size_t>(len) > s.size()) len = 1;
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) v = (v << 6) | (static_cast<uint8_t>(s[i + static_cast<size_t>(k)]) & 0x3f);
  *cp = v;
  return len;
}

bool IsEmoji(uint32_t cp) {
  return (cp >= 0x1F300 && cp <= 0x1FAFF) ||  // pictographs, emoticons, transport, supplemental
         (cp >= 0x2600 && cp <= 0x27BF) ||    // misc symbols, dingbats
         (cp >= 0x1F000 && cp <= 0x1F2FF) ||  // mahjong, cards, enclosed
         (cp >= 0x2B00 && cp <= 0x2BFF) || cp == 0x2764 || cp == 0x203C || cp == 0x2049;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80;
}

// `needle` occurs in `hay` (both lower-case) as a whole word (or words).
bool ContainsWord(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return false;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    const bool left = at == 0 || !IsWordByte(hay[at - 1]);
    const size_t end = at + needle.size();
    const bool right = end >= hay.size() || !IsWordByte(hay[end]);
    if (left && right) return true;
  }
  return false;
}

std::string Clean(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n') continue;
    if (u == 0x7f) continue;
    out += c;
  }
  return out;
}

}  // namespace

int CountCodePoints(std::string_view s) {
  int n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

bool ContainsEmoji(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    i += static_cast<size_t>(Decode(s, i, &cp));
    if (IsEmoji(cp)) return true;
  }
  return false;
}

std::vector<std::string> Hashtags(std::string_view s) {
  std::vector<std::string> tags;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '#') continue;
    size_t j = i + 1;
    while (j < s.size() && (IsWordByte(s[j]) || s[j] == '_')) ++j;
    if (j > i + 1) tags.emplace_back(s.substr(i, j - i));
    i = j - 1;
  }
  return tags;
}

Result<ParsedCaptions> ParseCaptions(std::string_view output, const Constraints& c) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(output);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("model output is not valid JSON: ") + e.what());
  }
  const nlohmann::json* list = &j;
  if (j.is_object()) {
    auto it = j.find("captions");
    if (it == j.end()) return InvalidArgument("model output has no \"captions\" field");
    list = &*it;
  }
  if (!list->is_array()) return InvalidArgument("model output's captions are not a list");
  ParsedCaptions out;
  std::vector<std::string> banned;
  for (const auto& b : c.banned) banned.push_back(Lower(b));
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& item = (*list)[i];
    if (!item.is_string()) {
      out.problems.push_back("item " + std::to_string(i) + " is not text");
      continue;
    }
    Caption cap;
    cap.text = Clean(item.get<std::string>());
    const int chars = CountCodePoints(cap.text);
    if (chars == 0) cap.problems.push_back("empty");
    if (chars > c.max_chars) {
      cap.problems.push_back("too long: " + std::to_string(chars) + " characters (limit " +
                             std::to_string(c.max_chars) + ")");
    }
    if (c.emoji_required && !ContainsEmoji(cap.text)) cap.problems.push_back("no emoji");
    const size_t tags = Hashtags(cap.text).size();
    if (static_cast<int>(tags) > c.max_hashtags) {
      cap.problems.push_back(std::to_string(tags) + " hashtags (limit " +
                             std::to_string(c.max_hashtags) + ")");
    }
    const std::string lower = Lower(cap.text);
    for (size_t b = 0; b < banned.size(); ++b) {
      if (ContainsWord(lower, banned[b])) cap.problems.push_back("uses \"" + c.banned[b] + "\"");
    }
    out.captions.push_back(std::move(cap));
  }
  if (static_cast<int>(out.captions.size()) != c.count) {
    out.problems.push_back(std::to_string(out.captions.size()) + " captions, " +
                           std::to_string(c.count) + " were asked for");
  }
  return out;
}

}  // namespace cairn::caption
