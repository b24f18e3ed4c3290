#include "core/decoding/json_matcher.h"

#include <climits>

#include "core/base/utf8.h"

namespace cairn::decoding {
namespace {

enum Kind : uint8_t { kValue, kObject, kKey, kArray, kString, kNumber, kLiteral };
enum ObjectPhase : uint8_t { kObjOpen, kObjKeyDone, kObjColon, kObjValueDone, kObjComma };
enum ArrayPhase : uint8_t { kArrOpen, kArrValueDone, kArrComma };
enum StringPhase : uint8_t { kStrBody, kStrEscape };
enum NumberPhase : uint8_t { kNumSign, kNumZero, kNumInt, kNumDot, kNumFrac, kNumE, kNumESign, kNumExp };

constexpr int kMaxWs = 2;
constexpr int kMaxDigits = 15;
constexpr int kMaxExpDigits = 2;  // so every number fits a double (no overflow)

bool IsWs(uint8_t c) { return c == ' ' || c == '\n' || c == '\t'; }
bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }

JsonMatcher::Frame MakeFrame(uint8_t kind, uint8_t phase, int node) {
  JsonMatcher::Frame f{};
  f.kind = kind;
  f.phase = phase;
  f.node = static_cast<int16_t>(node);
  return f;
}

uint64_t AllBits(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

}  // namespace

JsonMatcher::JsonMatcher(const Schema* schema) : schema_(schema) {
  stack_[0] = MakeFrame(kValue, 0, schema->root);
  depth_ = 1;
}

bool JsonMatcher::Push(const Frame& f) {
  if (depth_ >= kMaxDepth) return false;
  stack_[static_cast<size_t>(depth_++)] = f;
  return true;
}

void JsonMatcher::Pop() {
  --depth_;
  if (depth_ == 0) done_ = true;
}

bool JsonMatcher::Ws(Frame& f) {
  if (f.ws >= kMaxWs) return false;
  ++f.ws;
  return true;
}

bool JsonMatcher::Feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!Feed(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonMatcher::Feed(uint8_t c) {
  if (depth_ == 0) {
    if (!done_ || !IsWs(c) || root_ws_ >= kMaxWs) return false;
    ++root_ws_;
    return true;
  }
  Frame& f = stack_[static_cast<size_t>(depth_ - 1)];
  switch (f.kind) {
    case kValue:
      if (IsWs(c)) return Ws(f);
      return StartValue(c);
    case kObject: return FeedObject(f, c);
    case kKey: return FeedKey(f, c);
    case kArray: return FeedArray(f, c);
    case kString: return FeedString(f, c);
    case kNumber: return FeedNumber(f, c);
    case kLiteral: return FeedLiteral(f, c);
  }
  return false;
}

// Replaces the kValue frame on top with the frame the byte starts.
bool JsonMatcher::StartValue(uint8_t c) {
  Frame& top = stack_[static_cast<size_t>(depth_ - 1)];
  const int n = top.node;
  const SchemaNode& s = node(n);
  switch (s.type) {
    case SchemaNode::Type::kObject:
      if (c != '{') return false;
      top = MakeFrame(kObject, kObjOpen, n);
      return true;
    case SchemaNode::Type::kArray:
      if (c != '[') return false;
      top = MakeFrame(kArray, kArrOpen, n);
      return true;
    case SchemaNode::Type::kString:
      if (c != '"') return false;
      top = MakeFrame(kString, kStrBody, n);
      top.mask = AllBits(s.enum_values.size());
      return true;
    case SchemaNode::Type::kNumber:
    case SchemaNode::Type::kInteger:
      if (c == '-') {
        top = MakeFrame(kNumber, kNumSign, n);
      } else if (c == '0') {
        top = MakeFrame(kNumber, kNumZero, n);
        top.count = 1;
      } else if (c >= '1' && c <= '9') {
        top = MakeFrame(kNumber, kNumInt, n);
        top.count = 1;
      } else {
        return false;
      }
      return true;
    case SchemaNode::Type::kBoolean:
      if (c != 't' && c != 'f') return false;
      top = MakeFrame(kLiteral, c == 't' ? 0 : 1, n);
      top.count = 1;
      return true;
  }
  return false;
}

bool JsonMatcher::FeedObject(Frame& f, uint8_t c) {
  const SchemaNode& s = node(f.node);
  const uint64_t all = AllBits(s.property_names.size());
  if (IsWs(c)) return Ws(f);
  f.ws = 0;
  switch (f.phase) {
    case kObjOpen:
    case kObjComma:
      if (c == '"' && (all & ~f.mask) != 0) {
        f.phase = kObjKeyDone;
        Frame key = MakeFrame(kKey, 0, f.node);
        key.mask = all & ~f.mask;
        return Push(key);
      }
      return f.phase == kObjOpen && c == '}' && s.required_mask == 0 ? (Pop(), true) : false;
    case kObjKeyDone:
      if (c != ':') return false;
      f.phase = kObjColon;
      return true;
    case kObjColon: {
      f.phase = kObjValueDone;
      if (!Push(MakeFrame(kValue, 0, s.property_schemas[static_cast<size_t>(f.count)]))) return false;
      return StartValue(c);
    }
    case kObjValueDone:
      if (c == ',' && (all & ~f.mask) != 0) {
        f.phase = kObjComma;
        return true;
      }
      if (c == '}' && (s.required_mask & ~f.mask) == 0) {
        Pop();
        return true;
      }
      return false;
  }
  return false;
}

bool JsonMatcher::FeedKey(Frame& f, uint8_t c) {
  const SchemaNode& s = node(f.node);
  const auto len = static_cast<size_t>(f.count);
  if (c == '"') {
    for (size_t i = 0; i < s.property_names.size(); ++i) {
      if ((f.mask >> i & 1) && s.property_names[i].size() == len) {
        Frame& object = stack_[static_cast<size_t>(depth_ - 2)];
        object.count = static_cast<int32_t>(i);
        object.mask |= uint64_t{1} << i;
        Pop();
        return true;
      }
    }
    return false;
  }
  uint64_t next = 0;
  for (size_t i = 0; i < s.property_names.size(); ++i) {
    if ((f.mask >> i & 1) && s.property_names[i].size() > len &&
        static_cast<uint8_t>(s.property_names[i][len]) == c) {
      next |= uint64_t{1} << i;
    }
  }
  if (next == 0) return false;
  f.mask = next;
  ++f.count;
  return true;
}

bool JsonMatcher::FeedArray(Frame& f, uint8_t c) {
  const SchemaNode& s = node(f.node);
  if (IsWs(c)) return Ws(f);
  f.ws = 0;
  switch (f.phase) {
    case kArrOpen:
      if (c == ']') return s.min_items == 0 ? (Pop(), true) : false;
      [[fallthrough]];
    case kArrComma:
      if (f.count >= s.max_items) return false;
      ++f.count;
      f.phase = kArrValueDone;
      if (!Push(MakeFrame(kValue, 0, s.items))) return false;
      return StartValue(c);
    case kArrValueDone:
      if (c == ',' && f.count < s.max_items) {
        f.phase = kArrComma;
        return true;
      }
      if (c == ']' && f.count >= s.min_items) {
        Pop();
        return true;
      }
      return false;
  }
  return false;
}

bool JsonMatcher::FeedString(Frame& f, uint8_t c) {
  const SchemaNode& s = node(f.node);
  const bool is_enum = !s.enum_values.empty();
  if (f.utf8_left > 0) {
    if (c < f.lo || c > f.hi) return false;
    --f.utf8_left;
    f.lo = 0x80;
    f.hi = 0xBF;
    return true;
  }
  const bool room = s.max_length < 0 || f.count < s.max_length;
  if (f.phase == kStrEscape) {
    if (!room) return false;
    switch (c) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        if ((c == '"' || c == '\\' || c == '/') && s.excluded.find(static_cast<char>(c)) !=
                                                        std::string::npos) {
          return false;  // the escape would put an excluded character in the string
        }
        f.phase = kStrBody;
        ++f.count;
        return true;
      default:
        return false;
    }
  }
  if (c == '"') {
    if (is_enum) {
      bool exact = false;
      for (size_t i = 0; i < s.enum_values.size(); ++i) {
        if ((f.mask >> i & 1) && s.enum_values[i].size() == static_cast<size_t>(f.count)) exact = true;
      }
      if (!exact) return false;
    }
    Pop();
    return true;
  }
  if (c < 0x20 || !room) return false;
  if (c != '\\' && c < 0x80 && s.excluded.find(static_cast<char>(c)) != std::string::npos) {
    return false;
  }
  if (c == '\\') {
    if (is_enum) return false;
    f.phase = kStrEscape;
    return true;
  }
  if (is_enum) {
    uint64_t next = 0;
    for (size_t i = 0; i < s.enum_values.size(); ++i) {
      if ((f.mask >> i & 1) && s.enum_values[i].size() > static_cast<size_t>(f.count) &&
          static_cast<uint8_t>(s.enum_values[i][static_cast<size_t>(f.count)]) == c) {
        next |= uint64_t{1} << i;
      }
    }
    if (next == 0) return false;
    f.mask = next;
  }
  const Utf8Lead lead = Utf8LeadOf(c);
  if (lead.length == 0) return false;
  f.utf8_left = static_cast<uint8_t>(lead.length - 1);
  f.lo = lead.next_lo;
  f.hi = lead.next_hi;
  ++f.count;
  return true;
}

bool JsonMatcher::FeedNumber(Frame& f, uint8_t c) {
  const bool integer = node(f.node).type == SchemaNode::Type::kInteger;
  switch (f.phase) {
    case kNumSign:
      if (c == '0') return f.phase = kNumZero, f.count = 1, true;
      if (c >= '1' && c <= '9') return f.phase = kNumInt, f.count = 1, true;
      return false;
    case kNumZero:
    case kNumInt:
      if (IsDigit(c) && f.phase == kNumInt) return ++f.count <= kMaxDigits;
      if (c == '.' && !integer) return f.phase = kNumDot, true;
      if ((c == 'e' || c == 'E') && !integer) return f.phase = kNumE, true;
      break;
    case kNumDot:
      if (IsDigit(c)) return f.phase = kNumFrac, ++f.count <= kMaxDigits;
      return false;
    case kNumFrac:
      if (IsDigit(c)) return ++f.count <= kMaxDigits;
      if (c == 'e' || c == 'E') return f.phase = kNumE, true;
      break;
    case kNumE:
      if (c == '+' || c == '-') return f.phase = kNumESign, true;
      [[fallthrough]];
    case kNumESign:
      if (IsDigit(c)) return f.phase = kNumExp, f.lo = 1, true;
      return false;
    case kNumExp:
      if (IsDigit(c)) return ++f.lo <= kMaxExpDigits;
      break;
  }
  // The number is complete; the byte belongs to what follows it.
  Pop();
  return Feed(c);
}

bool JsonMatcher::FeedLiteral(Frame& f, uint8_t c) {
  const std::string_view word = f.phase == 0 ? "true" : "false";
  if (static_cast<size_t>(f.count) >= word.size() || static_cast<uint8_t>(word[static_cast<size_t>(f.count)]) != c) {
    return false;
  }
  if (static_cast<size_t>(++f.count) == word.size()) Pop();
  return true;
}

bool JsonMatcher::complete() const {
  if (depth_ == 0) return done_;
  if (depth_ != 1) return false;
  const Frame& f = stack_[0];
  return f.kind == kNumber &&
         (f.phase == kNumZero || f.phase == kNumInt || f.phase == kNumFrac || f.phase == kNumExp);
}

bool JsonMatcher::InPlainStringBody(int* remaining, int* utf8_left,
                                    std::string_view* excluded) const {
  if (depth_ == 0) return false;
  const Frame& f = stack_[static_cast<size_t>(depth_ - 1)];
  if (f.kind != kString || f.phase != kStrBody) return false;
  if (f.utf8_left != 0 && (f.lo != 0x80 || f.hi != 0xBF)) return false;
  *utf8_left = f.utf8_left;
  const SchemaNode& s = node(f.node);
  if (!s.enum_values.empty()) return false;
  *remaining = s.max_length < 0 ? INT_MAX : s.max_length - f.count;
  *excluded = s.excluded;
  return true;
}

}  // namespace cairn::decoding
