#include "core/safety/text_safety_filter.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "core/safety/term_matcher.h"
#include "core/safety/text_units.h"
#include "core/safety/wordlists.h"

namespace cairn::safety {

using internal::Candidate;
using internal::kTermCount;
using internal::kTerms;
using internal::TermEntry;
using internal::Unit;

struct TextSafetyFilter::Impl {
  internal::Trie terms;
  internal::Trie whitelist;
};

namespace {

// Disguises that only hide a severe term: it stays blocked. Anything in kAggressive means the
// reading is a guess, so a person decides.
constexpr uint32_t kAggressive = kLeetAmbiguous | kSpaced | kSplit | kMasked | kForeignScript;

Level LevelOf(const TermEntry& term, uint32_t evasions) {
  if (term.severity != internal::kSevere) return Level::kNeedsReview;
  return evasions & kAggressive ? Level::kNeedsReview : Level::kBlocked;
}

const char* CategoryNoun(Category c) {
  switch (c) {
    case Category::kSlur: return "slur";
    case Category::kSexual: return "sexual term";
    case Category::kProfanity: return "profanity";
    case Category::kOffensive: return "offensive term";
  }
  return "term";
}

std::string Reason(const TermEntry& term, uint32_t evasions, Level level) {
  static constexpr std::pair<uint32_t, const char*> kHow[] = {
      {kLookAlike, "written with look-alike characters"},
      {kStyled, "written in fullwidth or styled letters"},
      {kForeignScript, "written entirely in Cyrillic/Greek letters"},
      {kInvisible, "with hidden invisible characters"},
      {kDiacritics, "with accents or marks added"},
      {kLeet, "in leetspeak"},
      {kLeetAmbiguous, "in ambiguous leetspeak"},
      {kSpaced, "with its letters spaced apart"},
      {kSplit, "split by punctuation"},
      {kMasked, "with a letter masked by '*'"},
      {kRepeated, "with repeated letters"},
  };
  std::vector<const char*> how;
  for (const auto& [bit, text] : kHow) {
    if (evasions & bit) how.push_back(text);
  }
  std::string r = std::string("contains the ") + CategoryNoun(term.category) + " '" + term.name + "'";
  for (size_t i = 0; i < how.size(); ++i) {
    r += i == 0 ? " " : i + 1 == how.size() ? " and " : ", ";
    r += how[i];
  }
  if (level == Level::kNeedsReview) {
    r += term.severity != internal::kSevere ? " (mild or ambiguous term: needs review)"
                                            : " (found only by guessing at a disguise: needs review)";
  }
  return r;
}

}  // namespace

const char* LevelName(Level level) {
  switch (level) {
    case Level::kClean: return "clean";
    case Level::kNeedsReview: return "needs_review";
    case Level::kBlocked: return "blocked";
  }
  return "unknown";
}

const char* CategoryName(Category category) {
  switch (category) {
    case Category::kSlur: return "slur";
    case Category::kSexual: return "sexual";
    case Category::kProfanity: return "profanity";
    case Category::kOffensive: return "offensive";
  }
  return "unknown";
}

TextSafetyFilter::TextSafetyFilter(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
TextSafetyFilter::TextSafetyFilter(TextSafetyFilter&&) noexcept = default;
TextSafetyFilter& TextSafetyFilter::operator=(TextSafetyFilter&&) noexcept = default;
TextSafetyFilter::~TextSafetyFilter() = default;

Result<TextSafetyFilter> TextSafetyFilter::Create() {
  auto impl = std::make_unique<Impl>();
  for (size_t t = 0; t < kTermCount; ++t) {
    CAIRN_RETURN_IF_ERROR(impl->terms.Add(kTerms[t].key, static_cast<uint32_t>(t)));
  }
  for (size_t w = 0; w < internal::kWhitelistCount; ++w) {
    CAIRN_RETURN_IF_ERROR(impl->whitelist.Add(internal::kWhitelist[w], static_cast<uint32_t>(w)));
  }
  impl->terms.Finish();
  impl->whitelist.Finish();
  return TextSafetyFilter(std::move(impl));
}

size_t TextSafetyFilter::term_count() const { return kTermCount; }

std::span<const WordListSource> TextSafetyFilter::Sources() {
  return {internal::kWordListSources, internal::kWordListSourceCount};
}

Result<Verdict> TextSafetyFilter::Check(std::string_view utf8) const {
  if (utf8.size() > kMaxTextBytes) {
    return OutOfRange("text safety check: text of " + std::to_string(utf8.size()) +
                      " bytes is over the limit of " + std::to_string(kMaxTextBytes) +
                      "; check it in parts");
  }
  std::vector<Unit> units;
  CAIRN_RETURN_IF_ERROR(internal::SplitIntoUnits(utf8, &units));

  std::vector<Candidate> found;
  internal::FindTerms(impl_->terms, {kTerms, kTermCount}, units, &found);
  Verdict verdict;
  if (found.empty()) return verdict;

  std::vector<std::pair<uint32_t, uint32_t>> innocent;
  internal::FindWhitelisted(impl_->whitelist, units, &innocent);

  struct Scored {
    Candidate c;
    uint32_t evasions;
    Level level;
  };
  std::vector<Scored> scored;
  for (const Candidate& c : found) {
    const bool whitelisted = std::any_of(innocent.begin(), innocent.end(), [&](const auto& w) {
      return w.first <= c.first && c.last <= w.second;
    });
    if (whitelisted) continue;
    uint32_t evasions = c.flags & 0xFFFFu;
    if (evasions & kLookAlike && !(c.flags & internal::kLatin)) evasions |= kForeignScript;
    scored.push_back({c, evasions, LevelOf(kTerms[c.term], evasions)});
  }
  // Overlapping matches: keep the most severe, then the longest, then the earliest.
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.level != b.level) return a.level > b.level;
    const uint32_t la = a.c.last - a.c.first, lb = b.c.last - b.c.first;
    if (la != lb) return la > lb;
    if (a.c.first != b.c.first) return a.c.first < b.c.first;
    return std::popcount(a.evasions) < std::popcount(b.evasions);
  });
  std::vector<const Scored*> kept;
  for (const Scored& s : scored) {
    const bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Scored* k) {
      return s.c.first < k->c.last && k->c.first < s.c.last;
    });
    if (!overlaps) kept.push_back(&s);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Scored* a, const Scored* b) { return a->c.first < b->c.first; });
  for (const Scored* s : kept) {
    const TermEntry& term = kTerms[s->c.term];
    Finding f;
    f.term = term.name;
    f.category = term.category;
    f.level = s->level;
    f.begin = units[s->c.first].begin;
    f.end = units[s->c.last - 1].end;
    f.evasions = s->evasions;
    f.reason = Reason(term, s->evasions, s->level);
    verdict.level = std::max(verdict.level, f.level);
    verdict.findings.push_back(std::move(f));
  }
  return verdict;
}

}  // namespace cairn::safety
