// On-device text-safety filter for untrusted text (captions from a model, hashtags, titles).
//
//   auto filter = cairn::safety::TextSafetyFilter::Create();   // once: compiles the word lists
//   if (!filter.ok()) return filter.status();
//   auto verdict = filter->Check(caption);                     // per text, microseconds
//   if (!verdict.ok()) return verdict.status();                // invalid UTF-8, too long
//   switch (verdict->level) {
//     case Level::kClean:       Publish(caption); break;
//     case Level::kNeedsReview: QueueForReview(caption, verdict->findings); break;
//     case Level::kBlocked:     ShowWhy(verdict->findings); break;   // each has .reason
//   }
//
// The filter only reports; it never changes or drops text. Callers decide what each level
// means in their flow (the app routes kNeedsReview to the creator instead of hiding it).
//
// What it finds: terms from three npm word lists (obscenity, @2toad/profanity, naughty-words;
// see Sources() and core/safety/README.md for licences and attribution), also when they are
// disguised: any case, accents and combining marks, Cyrillic/Greek look-alikes, fullwidth,
// mathematical, circled and squared letters, zero-width and other invisible characters,
// leetspeak (0 1 3 4 5 7 @ $ ! | +), repeated letters ("fuuuck"), letters spaced or split
// apart ("f u c k", "f.u.c.k", "f_u_c_k") and one masked letter ("f*ck"). Word boundaries and
// obscenity's whitelist (plus a few local additions) keep innocent words clean ("Scunthorpe",
// "assassin", "cocktail", "therapist", "Dickens", "Sussex").
//
// How the level is decided, per finding (the verdict takes the highest):
//   kBlocked      a severe term (slurs, strong profanity, explicit sexual terms), matched plainly
//                 or with disguises that only hide it: case, accents, look-alike or styled
//                 letters mixed with Latin, invisible characters, repeats, unambiguous leet.
//   kNeedsReview  a mild or ambiguous term (anatomy, words with innocent meanings, anything only
//                 the uncurated lists have), or a severe term found only by aggressive
//                 normalization: spaced or split letters, ambiguous leet ("1" as i or l, "!",
//                 "|"), a masked letter, or written entirely in Cyrillic/Greek look-alikes
//                 (that may be a real word in another language).
//   kClean        nothing found.
//
// Threading: a TextSafetyFilter is immutable after Create(); Check() may run concurrently from
// any number of threads. Cost: Create() builds two tries (~0.6 ms); Check() is linear in the
// text with a bounded walk per position (a 200-character caption: ~15 µs native, ~30 µs wasm).
#ifndef CAIRN_CORE_SAFETY_TEXT_SAFETY_FILTER_H_
#define CAIRN_CORE_SAFETY_TEXT_SAFETY_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::safety {

enum class Level : uint8_t { kClean = 0, kNeedsReview = 1, kBlocked = 2 };

enum class Category : uint8_t {
  kSlur = 0,       // hateful terms for groups of people
  kSexual = 1,     // explicit or sexual terms
  kProfanity = 2,  // swearing
  kOffensive = 3,  // other offensive terms from the uncurated lists
};

// How a term was disguised; a Finding's `evasions` is a bitwise OR of these.
enum Evasion : uint32_t {
  kLookAlike = 1u << 0,       // Cyrillic/Greek letters that look Latin
  kStyled = 1u << 1,          // fullwidth, mathematical, circled or squared letters
  kDiacritics = 1u << 2,      // accents or combining marks added
  kInvisible = 1u << 3,       // zero-width or other invisible characters inside
  kLeet = 1u << 4,            // digits or symbols for letters, one reading (0 3 4 5 7 @ $ +)
  kLeetAmbiguous = 1u << 5,   // symbols with several readings ('1' and '|': i or l; '!')
  kSpaced = 1u << 6,          // single letters separated by spaces ("f u c k")
  kSplit = 1u << 7,           // punctuation inside the word ("f.u.c.k", "sh-it", "f_u_c_k")
  kMasked = 1u << 8,          // one letter replaced by '*'
  kRepeated = 1u << 9,        // letters repeated ("fuuuck")
  kForeignScript = 1u << 10,  // the match has no Latin letter at all (see kNeedsReview above)
};

struct Finding {
  std::string term;     // the listed term found, e.g. "fuck" (its canonical spelling)
  Category category = Category::kOffensive;
  Level level = Level::kNeedsReview;
  size_t begin = 0;     // byte span [begin, end) of the match in the text passed to Check()
  size_t end = 0;
  uint32_t evasions = 0;
  std::string reason;   // for people, e.g. "contains the slur 'x' written with look-alike characters"
};

struct Verdict {
  Level level = Level::kClean;      // the highest level of any finding
  std::vector<Finding> findings;    // in text order, non-overlapping
  bool clean() const { return level == Level::kClean; }
};

// Where the compiled-in word lists come from (show these in the app's licence screen).
struct WordListSource {
  const char* package;      // npm package, e.g. "naughty-words"
  const char* version;      // pinned version
  const char* license;      // SPDX id, e.g. "CC-BY-4.0"
  const char* attribution;  // the text the licence asks for
  const char* url;
};

// Stable lower-case names: "clean", "needs_review", "blocked"; "slur", "sexual", ...
const char* LevelName(Level level);
const char* CategoryName(Category category);

class TextSafetyFilter {
 public:
  // The most bytes Check() accepts; longer text is an OutOfRange error (split it first).
  static constexpr size_t kMaxTextBytes = 1 << 20;

  // Builds the matcher from the compiled-in lists. Fails only if the generated lists are
  // malformed (kInternal), which is a build bug.
  static Result<TextSafetyFilter> Create();

  TextSafetyFilter(TextSafetyFilter&&) noexcept;
  TextSafetyFilter& operator=(TextSafetyFilter&&) noexcept;
  ~TextSafetyFilter();

  // Checks UTF-8 text. Errors: kInvalidArgument for invalid UTF-8 (naming the byte offset),
  // kOutOfRange beyond kMaxTextBytes. Never modifies or drops text.
  Result<Verdict> Check(std::string_view utf8) const;

  size_t term_count() const;
  static std::span<const WordListSource> Sources();

 private:
  struct Impl;
  explicit TextSafetyFilter(std::unique_ptr<const Impl> impl);
  std::unique_ptr<const Impl> impl_;
};

}  // namespace cairn::safety

#endif  // CAIRN_CORE_SAFETY_TEXT_SAFETY_FILTER_H_
