// The caption-hq payload (strict parsing, every error naming its field) and the reranking of
// candidates (safety, constraint problems, context words, length, order; repeats dropped).
#include <catch_amalgamated.hpp>

#include "server/caption_hq_payload.h"
#include "server/caption_rerank.h"

namespace cairn::server {
namespace {

const std::string kJob = "0123456789abcdef0123456789abcdef";

std::string ErrorOf(std::string_view payload) {
  Result<CaptionHqPayload> p = ParseCaptionHqPayload(payload, kJob);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kInvalidArgument);
  return p.status().message();
}

TEST_CASE("a caption-hq payload with only a task gets the defaults, preset final") {
  CaptionHqPayload p = ParseCaptionHqPayload(R"({"task":"Write captions"})", kJob).value();
  CHECK(p.request.prompt.task == "Write captions");
  CHECK(p.request.prompt.context.empty());
  CHECK(p.request.prompt.output_format.empty());  // the engine writes it
  CHECK(p.request.preset == "final");
  CHECK(p.request.constraints.count == 3);
  CHECK(p.request.constraints.max_chars == 220);
  CHECK(p.request.constraints.max_hashtags == 10);
  CHECK_FALSE(p.request.constraints.emoji_required);
  CHECK_FALSE(p.seed_given);
}

TEST_CASE("every caption-hq payload field is read") {
  CaptionHqPayload p = ParseCaptionHqPayload(
      R"({"task":"t","context":"pier at dusk","style":"warm","count":4,"max_chars":80,)"
      R"("max_hashtags":-1,"emoji_required":true,"banned":["acme","brand x"],)"
      R"("seed":9007199254740991})",
      kJob).value();
  CHECK(p.request.prompt.context == "pier at dusk");
  CHECK(p.request.prompt.style == "warm");
  CHECK(p.request.constraints.count == 4);
  CHECK(p.request.constraints.max_chars == 80);
  CHECK(p.request.constraints.max_hashtags == -1);
  CHECK(p.request.constraints.emoji_required);
  CHECK(p.request.constraints.banned == std::vector<std::string>{"acme", "brand x"});
  CHECK(p.request.seed == 9007199254740991ull);
  CHECK(p.seed_given);
}

TEST_CASE("the default seed comes from the job id: the same on a retry, another for another job") {
  auto seed = [](std::string_view job) {
    return ParseCaptionHqPayload(R"({"task":"t"})", job).value().request.seed;
  };
  CHECK(seed(kJob) == seed(kJob));
  CHECK(seed(kJob) != seed("fedcba9876543210fedcba9876543210"));
  CHECK(seed(kJob) <= static_cast<uint64_t>(kMaxPayloadSeed));
}

TEST_CASE("a bad caption-hq payload is refused, naming the field") {
  CHECK_THAT(ErrorOf("{"), Catch::Matchers::ContainsSubstring("not valid JSON"));
  CHECK_THAT(ErrorOf("[]"), Catch::Matchers::ContainsSubstring("not a JSON object"));
  CHECK_THAT(ErrorOf("{}"), Catch::Matchers::ContainsSubstring("'task' is missing"));
  CHECK_THAT(ErrorOf(R"({"task":"t","colour":"red"})"),
             Catch::Matchers::ContainsSubstring("'colour' is not a field of a caption-hq payload"));
  CHECK_THAT(ErrorOf(R"({"task":3})"),
             Catch::Matchers::ContainsSubstring("field 'task' must be a string"));
  CHECK_THAT(ErrorOf(R"({"task":""})"),
             Catch::Matchers::ContainsSubstring("field 'task' must be 1 to 2000 bytes, not 0"));
  CHECK_THAT(ErrorOf(R"({"task":"t","count":"3"})"),
             Catch::Matchers::ContainsSubstring("'count' must be a whole number from 1 to 10"));
  CHECK_THAT(ErrorOf(R"({"task":"t","count":2.5})"),
             Catch::Matchers::ContainsSubstring("field 'count' must be a whole number"));
  CHECK_THAT(ErrorOf(R"({"task":"t","count":0})"),
             Catch::Matchers::ContainsSubstring("from 1 to 10, not 0"));
  CHECK_THAT(ErrorOf(R"({"task":"t","count":11})"), Catch::Matchers::ContainsSubstring("not 11"));
  CHECK_THAT(ErrorOf(R"({"task":"t","max_chars":2201})"),
             Catch::Matchers::ContainsSubstring("field 'max_chars'"));
  CHECK_THAT(ErrorOf(R"({"task":"t","max_hashtags":-2})"),
             Catch::Matchers::ContainsSubstring("field 'max_hashtags'"));
  CHECK_THAT(ErrorOf(R"({"task":"t","emoji_required":1})"),
             Catch::Matchers::ContainsSubstring("'emoji_required' must be true or false"));
  CHECK_THAT(ErrorOf(R"({"task":"t","banned":"acme"})"),
             Catch::Matchers::ContainsSubstring("'banned' must be an array of strings"));
  CHECK_THAT(ErrorOf(R"({"task":"t","banned":["ok",7]})"),
             Catch::Matchers::ContainsSubstring("field 'banned[1]' must be a string"));
  CHECK_THAT(ErrorOf(R"({"task":"t","seed":-1})"), Catch::Matchers::ContainsSubstring("'seed'"));
  CHECK_THAT(ErrorOf(R"({"task":"t","seed":18446744073709551615})"),
             Catch::Matchers::ContainsSubstring("not 18446744073709551615"));
  CHECK_THAT(ErrorOf(R"({"task":"t","seed":9007199254740992})"),
             Catch::Matchers::ContainsSubstring("'seed'"));
  std::string many = R"({"task":"t","banned":[)";
  for (int i = 0; i < 51; ++i) many += std::string(i ? "," : "") + "\"w\"";
  CHECK_THAT(ErrorOf(many + "]}"), Catch::Matchers::ContainsSubstring("at most 50"));
  CHECK_THAT(ErrorOf(R"({"task":")" + std::string(2001, 'x') + R"("})"),
             Catch::Matchers::ContainsSubstring("not 2001"));
}

Candidate Make(std::string text, int order, std::vector<std::string> problems = {},
               safety::Level level = safety::Level::kClean) {
  Candidate c;
  c.caption.text = std::move(text);
  c.caption.problems = std::move(problems);
  c.caption.safety.level = level;
  c.order = order;
  return c;
}

std::vector<std::string> Texts(const std::vector<engine::CheckedCaption>& captions) {
  std::vector<std::string> out;
  for (const auto& c : captions) out.push_back(c.text);
  return out;
}

TEST_CASE("context words: lowercased, 3+ characters, hashtags count as their word") {
  CHECK(ContextWords("Pier at SUNSET; sea, #sky-line café") ==
        std::set<std::string>{"pier", "sunset", "sea", "sky", "line", "café"});
  CHECK(ContextWordsUsed("#sunset over the pier", ContextWords("pier at sunset")) == 2);
  CHECK(ContextWordsUsed("nothing here", ContextWords("")) == 0);
}

TEST_CASE("reranking puts clean before flagged, and fewer problems first") {
  caption::Constraints c;
  c.max_chars = 20;
  prompt::CaptionPrompt p{"t", "", "", ""};
  std::vector<Candidate> all = {
      Make("blocked one", 0, {}, safety::Level::kBlocked),
      Make("review one", 1, {}, safety::Level::kNeedsReview),
      Make("two problems", 2, {"too long", "no emoji"}),
      Make("one problem", 3, {"too long"}),
      Make("clean and ok", 4),
  };
  CHECK(Texts(Rerank(all, p, c, 5)) == std::vector<std::string>{
                                           "clean and ok", "one problem", "two problems",
                                           "review one", "blocked one"});
  CHECK(Texts(Rerank(all, p, c, 2)) == std::vector<std::string>{"clean and ok", "one problem"});
}

TEST_CASE("reranking prefers context words, then a length near 60% of the limit, then order") {
  caption::Constraints c;
  c.max_chars = 20;  // the target length is 12
  prompt::CaptionPrompt p{"t", "pier at sunset; tags: sea", "", ""};
  std::vector<Candidate> all = {
      Make("a", 0),                        // no context word, 11 from the target
      Make("twelve chars", 1),             // no context word, right on the target
      Make("the sea", 2),                  // one context word
      Make("sea pier sunset", 3),          // three
      Make("Sea pier sunset ", 4),         // a repeat of 3 (case and outer spaces): dropped
      Make("twelve chars", 5),             // a repeat of 1: dropped
      Make("twelve char", 6),              // ties with 1 but for order... one char off: after
  };
  CHECK(Texts(Rerank(all, p, c, 10)) ==
        std::vector<std::string>{"sea pier sunset", "the sea", "twelve chars", "twelve char",
                                 "a"});
}

TEST_CASE("reranking keeps generation order among equals") {
  caption::Constraints c;
  prompt::CaptionPrompt p{"t", "", "", ""};
  std::vector<Candidate> all = {Make("bbb", 1), Make("aaa", 0)};
  CHECK(Texts(Rerank(all, p, c, 2)) == std::vector<std::string>{"aaa", "bbb"});
}

}  // namespace
}  // namespace cairn::server
