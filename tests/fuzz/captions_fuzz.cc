// Caption-model output (untrusted: a tampered or merely bad model can emit anything) through
// what the app does with it: the constrained decoder's JSON matcher, ParseCaptions with the
// creator's constraints, and the text-safety filter.
//
// Oracles:
//  - constrained decoding's promise: output the matcher accepts as a complete document always
//    parses, with exactly the asked-for number of captions, none over the length limit;
//  - ParseCaptions keeps its contract: captions are valid UTF-8 with no control characters but
//    newlines, and a caption that breaks a constraint (length, emoji, hashtags) says so;
//  - the safety filter's findings are ordered, non-overlapping spans inside the text.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/base/utf8.h"
#include "core/caption/caption_check.h"
#include "core/decoding/json_matcher.h"
#include "core/decoding/json_schema.h"
#include "core/engine/caption_engine.h"
#include "core/safety/text_safety_filter.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn {
namespace {

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const int n = Utf8SequenceLength(s, i);
    if (n <= 0) return false;
    i += static_cast<size_t>(n);
  }
  return true;
}

void CheckCaption(const caption::Caption& cap, const caption::Constraints& c) {
  CAIRN_FUZZ_CHECK(ValidUtf8(cap.text), "caption is not UTF-8");
  for (char ch : cap.text) {
    const auto u = static_cast<unsigned char>(ch);
    CAIRN_FUZZ_CHECK(u >= 0x20 || ch == '\n', "control character in a caption");
    CAIRN_FUZZ_CHECK(u != 0x7f, "DEL in a caption");
  }
  if (caption::CountCodePoints(cap.text) > c.max_chars) {
    CAIRN_FUZZ_CHECK(!cap.ok(), "an over-long caption passed: " + cap.text);
  }
  if (c.emoji_required && !caption::ContainsEmoji(cap.text)) {
    CAIRN_FUZZ_CHECK(!cap.ok(), "a caption without an emoji passed: " + cap.text);
  }
  if (static_cast<int>(caption::Hashtags(cap.text).size()) > c.max_hashtags) {
    CAIRN_FUZZ_CHECK(!cap.ok(), "too many hashtags passed: " + cap.text);
  }
}

void CheckSafety(const std::string& text) {
  static const safety::TextSafetyFilter filter = safety::TextSafetyFilter::Create().value();
  Result<safety::Verdict> v = filter.Check(text);
  if (!v.ok()) return;
  size_t last_end = 0;
  for (const safety::Finding& f : v->findings) {
    CAIRN_FUZZ_CHECK(f.begin >= last_end && f.begin < f.end && f.end <= text.size(),
                     "finding span out of order or out of the text");
    CAIRN_FUZZ_CHECK(!f.reason.empty(), "finding without a reason");
    last_end = f.end;
  }
  if (v->findings.empty()) CAIRN_FUZZ_CHECK(v->clean(), "a verdict above clean with no finding");
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  FuzzedDataProvider in(data, size);
  caption::Constraints c;
  c.count = in.ConsumeIntegralInRange(1, 5);
  c.max_chars = in.ConsumeIntegralInRange(1, 300);
  c.emoji_required = in.ConsumeBool();
  c.max_hashtags = in.ConsumeIntegralInRange(0, 12);
  for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) {
    c.banned.push_back(in.ConsumeRandomLengthString(16));
  }
  const std::string output = in.ConsumeRemainingBytesAsString();

  Result<caption::ParsedCaptions> parsed = caption::ParseCaptions(output, c);
  if (parsed.ok()) {
    for (const caption::Caption& cap : parsed->captions) {
      CheckCaption(cap, c);
      CheckSafety(cap.text);
    }
  }

  static std::string schema_for;
  static decoding::Schema schema;
  const std::string schema_json = engine::CaptionSchemaJson(c);
  if (schema_json != schema_for) {
    schema = decoding::Schema::Parse(schema_json).value();
    schema_for = schema_json;
  }
  decoding::JsonMatcher matcher(&schema);
  if (matcher.Feed(output) && matcher.complete()) {
    CAIRN_FUZZ_CHECK(parsed.ok(), "constrained output did not parse: " +
                                      parsed.status().ToString() + "\n" + output);
    CAIRN_FUZZ_CHECK(static_cast<int>(parsed->captions.size()) == c.count,
                     "constrained output has the wrong number of captions");
    for (const caption::Caption& cap : parsed->captions) {
      CAIRN_FUZZ_CHECK(caption::CountCodePoints(cap.text) <= c.max_chars,
                       "constrained output has an over-long caption");
    }
  }
  return 0;
}
