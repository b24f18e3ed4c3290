// The regex parser and compiler: pattern text -> AST -> backtracking program.
#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/regex_internal.h"

namespace cairn::tokenizer::regex_internal {
namespace {

// --- AST --------------------------------------------------------------------------------------

struct Node {
  enum Kind : uint8_t {
    kEmpty,
    kSet,
    kConcat,
    kAlt,
    kRepeat,
    kLook,
    kLineStart,
    kLineEnd,
    kTextStart,
    kTextEnd,
    kTextEndNewline,
    kWordBoundary,
    kNotWordBoundary
  } kind;
  explicit Node(Kind k) : kind(k) {}
  int set = -1;                         // kSet: index into sets
  std::vector<int> children;            // kConcat, kAlt, kRepeat (one), kLook (one)
  int min = 0, max = -1;                // kRepeat; max -1 = unbounded
  bool greedy = true;                   // kRepeat
  bool behind = false, negate = false;  // kLook
};

// --- Parser and compiler ----------------------------------------------------------------------

class Compiler {
 public:
  explicit Compiler(std::string_view pattern) : pattern_(pattern), s_(ToCodePoints(pattern)) {}

  Result<std::shared_ptr<Regex::Program>> Build() {
    auto program = std::make_shared<Regex::Program>();
    program_ = program.get();
    int root = ParseAlt();
    if (!error_.ok()) return error_;
    if (i_ < s_.size()) {
      Fail("unbalanced ')'");
      return error_;
    }
    program_->programs.emplace_back();
    CompileProgram(root, 0, /*lookbehind=*/false);
    if (!error_.ok()) return error_;
    return program;
  }

 private:
  void Fail(std::string what) {
    if (error_.ok()) {
      error_ = Unsupported("regex \"" + std::string(pattern_) + "\": " + what + " at code point " +
                           std::to_string(i_));
    }
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  char32_t Peek(size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : 0; }
  bool Eat(char32_t c) {
    if (!AtEnd() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  int Add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size()) - 1;
  }
  int AddSet(CharSet set) {
    if (fold_) AddAsciiFold(&set);
    program_->sets.push_back(std::move(set));
    Node n{Node::kSet};
    n.set = static_cast<int>(program_->sets.size()) - 1;
    return Add(n);
  }
  int AddChar(char32_t c) {
    CharSet set;
    set.items.push_back(Range(c, c));
    return AddSet(std::move(set));
  }

  int ParseAlt() {
    std::vector<int> alts{ParseConcat()};
    while (error_.ok() && Eat('|')) alts.push_back(ParseConcat());
    if (alts.size() == 1) return alts[0];
    Node n{Node::kAlt};
    n.children = std::move(alts);
    return Add(n);
  }

  int ParseConcat() {
    Node n{Node::kConcat};
    while (error_.ok() && !AtEnd() && Peek() != '|' && Peek() != ')') {
      int atom = ParseAtom();
      if (!error_.ok()) break;
      if (atom < 0) continue;  // e.g. \G
      n.children.push_back(ParseQuantifiers(atom));
    }
    return Add(n);
  }

  // {n}, {n,}, {n,m}, {,m} at i_; false (nothing eaten) if it is not a quantifier.
  bool ParseBraces(int* min, int* max) {
    size_t j = i_ + 1;
    auto number = [&](int* out) {
      size_t start = j;
      long v = 0;
      while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9' && v < 100000)
        v = v * 10 + (s_[j++] - '0');
      *out = static_cast<int>(v);
      return j > start;
    };
    int a = 0, b = -1;
    const bool has_a = number(&a);
    if (j < s_.size() && s_[j] == ',') {
      ++j;
      if (!number(&b)) b = -1;
      if (!has_a && b < 0) return false;
    } else {
      if (!has_a) return false;
      b = a;
    }
    if (j >= s_.size() || s_[j] != '}') return false;
    i_ = j + 1;
    *min = a;
    *max = b;
    return true;
  }

  int ParseQuantifiers(int atom) {
    while (!AtEnd()) {
      int min, max;
      const char32_t c = Peek();
      if (c == '*') {
        min = 0, max = -1, ++i_;
      } else if (c == '+') {
        min = 1, max = -1, ++i_;
      } else if (c == '?') {
        min = 0, max = 1, ++i_;
      } else if (c == '{' && ParseBraces(&min, &max)) {
      } else {
        break;
      }
      if (max >= 0 && (max < min || max > 1000)) {
        Fail("bad repetition count");
        return atom;
      }
      Node n{Node::kRepeat};
      n.children = {atom};
      n.min = min;
      n.max = max;
      if (Eat('?'))
        n.greedy = false;
      else
        Eat('+');  // possessive: read as greedy, as the reference does
      atom = Add(n);
    }
    return atom;
  }

  int ParseAtom() {
    const char32_t c = s_[i_++];
    switch (c) {
      case '(':
        return ParseGroup();
      case '[': {
        CharSet set;
        if (!ParseClass(&set)) return -1;
        return AddSet(std::move(set));
      }
      case '.': {
        CharSet set;
        set.negate = true;
        set.items.push_back(Range('\n', '\n'));
        program_->sets.push_back(std::move(set));
        Node n{Node::kSet};
        n.set = static_cast<int>(program_->sets.size()) - 1;
        return Add(n);
      }
      case '^':
        return Add(Node{Node::kLineStart});
      case '$':
        return Add(Node{Node::kLineEnd});
      case '\\':
        return ParseEscape();
      case '*':
      case '+':
      case '?':
        Fail("quantifier without an operand");
        return -1;
      default:
        if (fold_ && c < 128 && ((c | 32) >= 'a' && (c | 32) <= 'z')) {
          CharSet set;
          set.items.push_back(Range(c | 32, c | 32));
          set.items.push_back(Range(c & ~32u, c & ~32u));
          program_->sets.push_back(std::move(set));
          Node n{Node::kSet};
          n.set = static_cast<int>(program_->sets.size()) - 1;
          return Add(n);
        }
        return AddChar(c);
    }
  }

  int ParseGroup() {
    const bool saved_fold = fold_;
    Node look{Node::kLook};
    bool is_look = false;
    if (Eat('?')) {
      if (Eat(':') || Eat('>')) {
      } else if (Eat('i')) {
        if (!Eat(':')) {
          Fail("only the (?i:...) inline flag group is supported");
          return -1;
        }
        fold_ = true;
      } else if (Eat('=') || (Peek() == '!' && Eat('!'))) {
        is_look = true;
        look.negate = s_[i_ - 1] == '!';
      } else if (Peek() == '<' && (Peek(1) == '=' || Peek(1) == '!')) {
        is_look = true;
        look.behind = true;
        look.negate = Peek(1) == '!';
        i_ += 2;
      } else if (Peek() == '<' || Peek() == 'P') {  // named group: skip the name
        while (!AtEnd() && Peek() != '>') ++i_;
        if (!Eat('>')) {
          Fail("unterminated group name");
          return -1;
        }
      } else {
        Fail("unsupported group syntax");
        return -1;
      }
    }
    int body = ParseAlt();
    fold_ = saved_fold;
    if (!error_.ok()) return -1;
    if (!Eat(')')) {
      Fail("missing ')'");
      return -1;
    }
    if (!is_look) return body;
    look.children = {body};
    return Add(look);
  }

  // Reads \p{Name}, \P{Name} or \pL after the 'p'/'P' (at i_); appends the item.
  bool ParseProperty(bool negate, SetItem* item) {
    std::string name;
    if (Eat('{')) {
      while (!AtEnd() && Peek() != '}') name += static_cast<char>(s_[i_++]);
      if (!Eat('}')) {
        Fail("unterminated \\p{...}");
        return false;
      }
    } else if (!AtEnd()) {
      name = static_cast<char>(s_[i_++]);
    }
    if (!name.empty() && name[0] == '^') {
      negate = !negate;
      name.erase(0, 1);
    }
    item->negate = negate;
    if (name == "White_Space" || name == "Space" || name == "space") {
      item->kind = SetItem::kWhiteSpace;
      return true;
    }
    if (std::optional<uint32_t> mask = CategoryMaskByName(name)) {
      item->kind = SetItem::kCategories;
      item->mask = *mask;
      return true;
    }
    Fail("unsupported Unicode property \\p{" + name + "}");
    return false;
  }

  // Reads hex digits for \x / \u: {H..} or exactly `count` digits.
  bool ParseHex(size_t count, char32_t* out) {
    auto digit = [](char32_t c) -> int {
      if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
      if ((c | 32) >= 'a' && (c | 32) <= 'f') return static_cast<int>((c | 32) - 'a' + 10);
      return -1;
    };
    uint32_t v = 0;
    if (Eat('{')) {
      size_t k = 0;
      while (!AtEnd() && digit(Peek()) >= 0 && k < 8) v = v * 16 + digit(s_[i_++]), ++k;
      if (k == 0 || !Eat('}') || v > 0x10FFFF) {
        Fail("bad \\x{...} escape");
        return false;
      }
    } else {
      for (size_t k = 0; k < count; ++k) {
        if (AtEnd() || digit(Peek()) < 0) {
          Fail("bad hex escape");
          return false;
        }
        v = v * 16 + digit(s_[i_++]);
      }
    }
    *out = v;
    return true;
  }

  // An escape (after the backslash) that stands for a set of code points; false when it is not
  // one (i_ unchanged). Sets *item.
  bool ParseSetEscape(SetItem* item) {
    const char32_t c = Peek();
    switch (c) {
      case 's':
      case 'S':
        item->kind = SetItem::kWhiteSpace;
        break;
      case 'd':
      case 'D':
        item->kind = SetItem::kCategories;
        item->mask = CategoryBit(Category::kNd);
        break;
      case 'w':
      case 'W':
        item->kind = SetItem::kWord;
        break;
      case 'h':
      case 'H':
        item->kind = SetItem::kHex;
        break;
      case 'p':
      case 'P':
        ++i_;
        return ParseProperty(c == 'P', item);
      default:
        return false;
    }
    item->negate = c < 'a';
    ++i_;
    return true;
  }

  // A single code point escape (after the backslash).
  bool ParseCharEscape(char32_t* out) {
    const char32_t c = s_[i_++];
    switch (c) {
      case 'n':
        *out = '\n';
        return true;
      case 'r':
        *out = '\r';
        return true;
      case 't':
        *out = '\t';
        return true;
      case 'f':
        *out = '\f';
        return true;
      case 'v':
        *out = '\v';
        return true;
      case 'a':
        *out = 0x07;
        return true;
      case 'e':
        *out = 0x1B;
        return true;
      case '0':
        *out = 0;
        return true;
      case 'x':
        return ParseHex(2, out);
      case 'u':
        return ParseHex(4, out);
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '1' && c <= '9')) {
          --i_;
          Fail(std::string("unsupported escape \\") + static_cast<char>(c));
          return false;
        }
        *out = c;
        return true;
    }
  }

  int ParseEscape() {
    if (AtEnd()) {
      Fail("trailing backslash");
      return -1;
    }
    switch (Peek()) {
      case 'A':
        ++i_;
        return Add(Node{Node::kTextStart});
      case 'z':
        ++i_;
        return Add(Node{Node::kTextEnd});
      case 'Z':
        ++i_;
        return Add(Node{Node::kTextEndNewline});
      case 'b':
        ++i_;
        return Add(Node{Node::kWordBoundary});
      case 'B':
        ++i_;
        return Add(Node{Node::kNotWordBoundary});
      case 'G':
        ++i_;
        return -1;
      default:
        break;
    }
    SetItem item{SetItem::kRange};
    if (ParseSetEscape(&item)) {
      if (!error_.ok()) return -1;
      CharSet set;
      set.items.push_back(item);
      program_->sets.push_back(std::move(set));
      Node n{Node::kSet};
      n.set = static_cast<int>(program_->sets.size()) - 1;
      return Add(n);
    }
    if (!error_.ok()) return -1;
    char32_t c;
    if (!ParseCharEscape(&c)) return -1;
    return AddChar(c);
  }

  // After '['; reads up to and including the closing ']'.
  bool ParseClass(CharSet* set) {
    if (Eat('^')) set->negate = true;
    bool first = true;
    while (true) {
      if (AtEnd()) {
        Fail("unterminated character class");
        return false;
      }
      char32_t c = Peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '[') {  // nested class: union
        ++i_;
        CharSet inner;
        if (!ParseClass(&inner)) return false;
        if (inner.negate) {
          Fail("negated nested character classes are not supported");
          return false;
        }
        set->items.insert(set->items.end(), inner.items.begin(), inner.items.end());
        continue;
      }
      char32_t lo;
      if (c == '\\') {
        ++i_;
        if (AtEnd()) {
          Fail("trailing backslash");
          return false;
        }
        SetItem item{SetItem::kRange};
        if (ParseSetEscape(&item)) {
          set->items.push_back(item);
          continue;
        }
        if (!error_.ok() || !ParseCharEscape(&lo)) return false;
        if (lo == 'b') lo = 0x08;
      } else {
        lo = c;
        ++i_;
      }
      char32_t hi = lo;
      if (Peek() == '-' && Peek(1) != ']' && Peek(1) != 0) {
        ++i_;
        if (Eat('\\')) {
          if (AtEnd() || !ParseCharEscape(&hi)) return false;
        } else {
          hi = s_[i_++];
        }
        if (hi < lo) {
          Fail("reversed range in character class");
          return false;
        }
      }
      set->items.push_back(Range(lo, hi));
    }
    if (fold_) AddAsciiFold(set);
    return true;
  }

  // Whether a node can match the empty string (loops over such bodies need a progress check).
  bool Nullable(int id) const {
    const Node& n = nodes_[id];
    switch (n.kind) {
      case Node::kSet:
        return false;
      case Node::kConcat:
        for (int c : n.children) {
          if (!Nullable(c)) return false;
        }
        return true;
      case Node::kAlt:
        for (int c : n.children) {
          if (Nullable(c)) return true;
        }
        return false;
      case Node::kRepeat:
        return n.min == 0 || Nullable(n.children[0]);
      default:
        return true;
    }
  }

  void Emit(int prog, Inst in) { program_->programs[prog].push_back(in); }
  int Here(int prog) const { return static_cast<int>(program_->programs[prog].size()); }
  Inst& At(int prog, int pc) { return program_->programs[prog][pc]; }

  void CompileProgram(int root, int prog, bool lookbehind) {
    CompileNode(root, prog);
    if (lookbehind) Emit(prog, {Op::kAtTarget});
    Emit(prog, {Op::kMatch});
  }

  // x* (greedy or lazy), with a progress check when x can match empty.
  void CompileStar(int body, bool greedy, int prog) {
    const bool nullable = Nullable(body);
    const int reg = nullable ? program_->registers++ : -1;
    const int split = Here(prog);
    Emit(prog, {Op::kSplit});
    const int start = Here(prog);
    if (nullable) Emit(prog, {Op::kMark, reg});
    CompileNode(body, prog);
    if (nullable) Emit(prog, {Op::kProgress, reg});
    Emit(prog, {Op::kJmp, split});
    const int after = Here(prog);
    At(prog, split).x = greedy ? start : after;
    At(prog, split).y = greedy ? after : start;
  }

  void CompileOptional(int body, bool greedy, int prog) {
    const int split = Here(prog);
    Emit(prog, {Op::kSplit});
    const int start = Here(prog);
    CompileNode(body, prog);
    const int after = Here(prog);
    At(prog, split).x = greedy ? start : after;
    At(prog, split).y = greedy ? after : start;
  }

  void CompileNode(int id, int prog) {
    if (Here(prog) > 200000) {
      Fail("pattern too large");
      return;
    }
    const Node n = nodes_[id];
    switch (n.kind) {
      case Node::kEmpty:
        break;
      case Node::kSet:
        Emit(prog, {Op::kSet, n.set});
        break;
      case Node::kConcat:
        for (int c : n.children) CompileNode(c, prog);
        break;
      case Node::kAlt: {
        std::vector<int> jumps;
        for (size_t k = 0; k < n.children.size(); ++k) {
          int split = -1;
          if (k + 1 < n.children.size()) {
            split = Here(prog);
            Emit(prog, {Op::kSplit});
            At(prog, split).x = Here(prog);
          }
          CompileNode(n.children[k], prog);
          if (k + 1 < n.children.size()) {
            jumps.push_back(Here(prog));
            Emit(prog, {Op::kJmp});
            At(prog, split).y = Here(prog);
          }
        }
        for (int j : jumps) At(prog, j).x = Here(prog);
        break;
      }
      case Node::kRepeat: {
        const int body = n.children[0];
        for (int k = 0; k < n.min; ++k) CompileNode(body, prog);
        if (n.max < 0) {
          CompileStar(body, n.greedy, prog);
        } else {
          for (int k = n.min; k < n.max; ++k) CompileOptional(body, n.greedy, prog);
        }
        break;
      }
      case Node::kLook: {
        const int sub = static_cast<int>(program_->programs.size());
        program_->programs.emplace_back();
        CompileProgram(n.children[0], sub, n.behind);
        Emit(prog, {Op::kLook, sub, (n.negate ? kLookNegate : 0) | (n.behind ? kLookBehind : 0)});
        break;
      }
      case Node::kLineStart:
        Emit(prog, {Op::kLineStart});
        break;
      case Node::kLineEnd:
        Emit(prog, {Op::kLineEnd});
        break;
      case Node::kTextStart:
        Emit(prog, {Op::kTextStart});
        break;
      case Node::kTextEnd:
        Emit(prog, {Op::kTextEnd});
        break;
      case Node::kTextEndNewline:
        Emit(prog, {Op::kTextEndNewline});
        break;
      case Node::kWordBoundary:
        Emit(prog, {Op::kWordBoundary});
        break;
      case Node::kNotWordBoundary:
        Emit(prog, {Op::kNotWordBoundary});
        break;
    }
  }

  std::string_view pattern_;
  std::u32string s_;
  size_t i_ = 0;
  bool fold_ = false;
  Status error_;
  std::vector<Node> nodes_;
  Regex::Program* program_ = nullptr;
};

}  // namespace

Result<std::shared_ptr<Regex::Program>> CompilePattern(std::string_view pattern) {
  Compiler compiler(pattern);
  return compiler.Build();
}

}  // namespace cairn::tokenizer::regex_internal
