// The regex matcher (a backtracking VM) and the public Regex API.
#include "core/tokenizer/regex.h"

#include <string>
#include <vector>

#include "core/tokenizer/regex_internal.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

using regex_internal::CharSet;
using regex_internal::Inst;
using regex_internal::kLookBehind;
using regex_internal::kLookNegate;
using regex_internal::Op;
using regex_internal::Range;

bool IsWordChar(char32_t c) {
  return InCategories(c, kMaskLetter | kMaskMark | CategoryBit(Category::kNd) |
                             CategoryBit(Category::kNl) | CategoryBit(Category::kPc));
}

struct Frame {
  int pc;
  int pos;  // for a register restore: the old value
  int reg;  // -1: a backtrack point; >= 0: restore this register
};

// Buffers reused across the start positions of one search.
struct Scratch {
  std::vector<int> regs;
  std::vector<Frame> stack;
};

// Runs program `index` anchored at `pos`; on success sets *end. `target` is the position a
// lookbehind body must end at (-1 when not in a lookbehind).
bool Run(const Regex::Program& p, int index, std::u32string_view text, int pos, int target,
         Scratch* scratch, int* end) {
  const std::vector<Inst>& prog = p.programs[index];
  const int n = static_cast<int>(text.size());
  std::vector<int>& regs = scratch->regs;
  std::vector<Frame>& stack = scratch->stack;
  regs.assign(p.registers, -1);
  stack.clear();
  stack.push_back({0, pos, -1});
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (f.reg >= 0) {
      regs[f.reg] = f.pos;
      continue;
    }
    int pc = f.pc, at = f.pos;
    bool alive = true;
    while (alive) {
      const Inst& in = prog[pc];
      switch (in.op) {
        case Op::kSet:
          if (at < n && p.sets[in.x].Matches(text[at])) {
            ++at;
            ++pc;
          } else {
            alive = false;
          }
          break;
        case Op::kSplit:
          stack.push_back({in.y, at, -1});
          pc = in.x;
          break;
        case Op::kJmp:
          pc = in.x;
          break;
        case Op::kMatch:
          *end = at;
          return true;
        case Op::kLook: {
          bool found = false;
          int sub_end = 0;
          Scratch inner;
          if (in.y & kLookBehind) {
            for (int s = at; s >= 0 && !found; --s)
              found = Run(p, in.x, text, s, at, &inner, &sub_end);
          } else {
            found = Run(p, in.x, text, at, -1, &inner, &sub_end);
          }
          if (found == ((in.y & kLookNegate) != 0))
            alive = false;
          else
            ++pc;
          break;
        }
        case Op::kLineStart:
          if (at == 0 || text[at - 1] == '\n')
            ++pc;
          else
            alive = false;
          break;
        case Op::kLineEnd:
          if (at == n || text[at] == '\n')
            ++pc;
          else
            alive = false;
          break;
        case Op::kTextStart:
          if (at == 0)
            ++pc;
          else
            alive = false;
          break;
        case Op::kTextEnd:
          if (at == n)
            ++pc;
          else
            alive = false;
          break;
        case Op::kTextEndNewline:
          if (at == n || (at == n - 1 && text[at] == '\n'))
            ++pc;
          else
            alive = false;
          break;
        case Op::kWordBoundary:
        case Op::kNotWordBoundary: {
          const bool before = at > 0 && IsWordChar(text[at - 1]);
          const bool after = at < n && IsWordChar(text[at]);
          if ((before != after) == (in.op == Op::kWordBoundary))
            ++pc;
          else
            alive = false;
          break;
        }
        case Op::kMark:
          stack.push_back({0, regs[in.x], in.x});
          regs[in.x] = at;
          ++pc;
          break;
        case Op::kProgress:
          if (regs[in.x] == at)
            alive = false;
          else
            ++pc;
          break;
        case Op::kAtTarget:
          if (at == target)
            ++pc;
          else
            alive = false;
          break;
      }
    }
  }
  return false;
}

}  // namespace

Result<Regex> Regex::Compile(std::string_view pattern) {
  CAIRN_RETURN_IF_ERROR(ValidateUtf8(pattern).WithContext("regex pattern"));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Program> program, regex_internal::CompilePattern(pattern));
  return Regex(std::move(program));
}

Regex Regex::Literal(std::u32string_view literal) {
  auto program = std::make_shared<Program>();
  program->literal = FromCodePoints(literal);
  program->programs.emplace_back();
  for (char32_t c : literal) {
    CharSet set;
    set.items.push_back(Range(c, c));
    program->sets.push_back(std::move(set));
    program->programs[0].push_back({Op::kSet, static_cast<int>(program->sets.size()) - 1});
  }
  program->programs[0].push_back({Op::kMatch});
  return Regex(std::move(program));
}

const std::string* Regex::literal() const {
  return program_->literal ? &*program_->literal : nullptr;
}

bool Regex::Search(std::u32string_view text, size_t start, Match* match) const {
  Scratch scratch;
  for (size_t s = start; s <= text.size(); ++s) {
    int end = 0;
    if (Run(*program_, 0, text, static_cast<int>(s), -1, &scratch, &end)) {
      match->begin = s;
      match->end = static_cast<size_t>(end);
      return true;
    }
  }
  return false;
}

std::vector<Regex::Match> Regex::FindAll(std::u32string_view text) const {
  std::vector<Match> out;
  size_t at = 0;
  Match m;
  while (at <= text.size() && Search(text, at, &m)) {
    out.push_back(m);
    at = m.end > m.begin ? m.end : m.end + 1;
  }
  return out;
}

}  // namespace cairn::tokenizer
