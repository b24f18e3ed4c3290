#include <catch_amalgamated.hpp>

#include <nlohmann/json.hpp>

#include <random>

#include "core/decoding/json_matcher.h"
#include "core/decoding/json_schema.h"
#include "core/decoding/token_mask.h"

namespace cairn::decoding {
namespace {

using nlohmann::json;

constexpr char kCaptionSchema[] = R"({
  "type": "object",
  "properties": {
    "captions": {"type": "array", "minItems": 1, "maxItems": 3,
                 "items": {"type": "string", "maxLength": 24, "pattern": "^[^\\[\\]{}]*$"}},
    "tone": {"enum": ["warm", "bold", "wry"]},
    "tag": {"type": "string", "maxLength": 12, "pattern": "^[^# \\/]*$"},
    "count": {"type": "integer"},
    "score": {"type": "number"},
    "ok": {"type": "boolean"}
  },
  "required": ["captions", "tone"]
})";

bool Accepts(const Schema& s, std::string_view doc) {
  JsonMatcher m(&s);
  return m.Feed(doc) && m.complete();
}

TEST_CASE("the matcher accepts conforming documents in any key order, with light whitespace") {
  Schema s = Schema::Parse(kCaptionSchema).value();
  for (const char* doc : {
           R"({"captions":["a","b"],"tone":"warm"})",
           R"({"tone":"wry","captions":["x"],"count":-12,"score":0.5e-3,"ok":false})",
           "{ \"captions\" : [ \"caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x8C\x85\" ],\n \"tone\":\"bold\" }",
           R"({"captions":["say \"hi\"\n"],"tone":"warm","count":0})",
           R"({"captions":["a (b) <c>"],"tone":"warm","tag":"sun\\set"})",
       }) {
    INFO(doc);
    CHECK(Accepts(s, doc));
  }
}

TEST_CASE("the matcher rejects what the schema or JSON forbids") {
  Schema s = Schema::Parse(kCaptionSchema).value();
  for (const char* doc : {
           R"({"captions":["a"]})",                                  // missing required tone
           R"({"captions":["a"],"tone":"warm","extra":1})",          // unknown key
           R"({"captions":["a","b","c","d"],"tone":"warm"})",        // maxItems
           R"({"captions":[],"tone":"warm"})",                       // minItems
           R"({"captions":["aaaaaaaaaaaaaaaaaaaaaaaaa"],"tone":"warm"})",  // maxLength 24
           R"({"captions":["a"],"tone":"cold"})",                    // enum
           R"({"captions":["a"],"tone":"warm","tone":"bold"})",      // duplicate key
           R"({"captions":["a",],"tone":"warm"})",                   // trailing comma
           R"({"captions":["a"],"tone":"warm","count":012})",        // leading zero
           R"({"captions":["a"],"tone":"warm","count":1.5})",        // integer
           R"({"captions":["a"],"tone":"warm","ok":yes})",
           "{\"captions\":[\"\xC3\"],\"tone\":\"warm\"}",            // cut UTF-8
           "{\"captions\":[\"\xED\xA0\x80\"],\"tone\":\"warm\"}",    // surrogate in UTF-8
           "{\"captions\":[\"a\tb\"],\"tone\":\"warm\"}",            // control character
           "{   \"captions\":[\"a\"],\"tone\":\"warm\"}",             // three spaces
           R"({"captions":["\u0041"],"tone":"warm"})",               // \u escapes are off
           R"({"captions":["a"],"tone":"warm"}})",
           R"({"captions":["]} mood: a"],"tone":"warm"})",              // pattern: no brackets
           R"({"captions":["a {b}"],"tone":"warm"})",
           R"({"captions":["a"],"tone":"warm","tag":"#sun"})",        // pattern: no '#'
           R"({"captions":["a"],"tone":"warm","tag":"golden hour"})", // ... or space
           R"({"captions":["a"],"tone":"warm","tag":"a\/b"})",        // ... even escaped
       }) {
    INFO(doc);
    CHECK_FALSE(Accepts(s, doc));
  }
}

TEST_CASE("unsupported schema keywords are refused by name") {
  CHECK(Schema::Parse(R"({"type":"string","format":"email"})").status().message() ==
        "schema $: keyword 'format' is not supported");
  CHECK(Schema::Parse(R"({"type":"string","pattern":"a+"})").status().message() ==
        "schema $.pattern: only \"^[^...]*$\" (characters a string may not contain, printable "
        "ASCII) is supported, not \"a+\"");
  for (const char* bad : {R"(^[^\d]*$)", R"(^[^a-z]*$)", R"(^[^]]*$)", R"(^[^[]*$)",
                          R"(^[^ab]+$)", R"(^[^]*$)", R"([^ab]*)", R"(^[^ab\]*$)"}) {
    INFO(bad);
    const json schema = {{"type", "string"}, {"pattern", bad}};
    CHECK(Schema::Parse(schema.dump()).status().code() == StatusCode::kUnsupported);
  }
  CHECK(Schema::Parse(R"({"type":"string","pattern":1})").status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(Schema::Parse(R"({"type":"string","pattern":"^[^\\[\\]{}#]*$"})").value()
            .nodes[0].excluded == "[]{}#");
  CHECK(Schema::Parse(R"({"type":"null"})").status().code() == StatusCode::kUnsupported);
  CHECK(Schema::Parse(R"({"type":"array"})").status().code() == StatusCode::kInvalidArgument);
  CHECK(Schema::Parse("{").status().code() == StatusCode::kInvalidArgument);
}

// A vocabulary like a byte-level BPE one: every byte, JSON fragments, words, multi-byte
// characters whole and split across tokens.
std::vector<std::string> TestVocab() {
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  for (const char* t : {"{\"", "\":", "\":\"", "\",\"", "\"]", "\"],", "]}", "\"}", "\",", "[\"",
                        "captions", "cap", "tions", "tone", "warm", "bold", "wry", "count", "score",
                        "ok", "true", "false", " the", " sun", "set", " golden", " hour", "!",
                        " #", "sunset", "\\n", "\\\"", "12", "0.", "e-", "café", "日本",
                        "\xE6\x97", "\xA5", "\xF0\x9F", "\x8C\x85", "🌅", "  ", " \n", "\"tone\"",
                        ":[", "\",\"tone\":\"", "hello world", "a very long token of text",
                        "\"tag\":\"", "\"]}", "word]", "{x}", "\\/", "#tag"}) {
    v.push_back(t);
  }
  v.push_back("");  // a special token: never allowed
  return v;
}

// An independent check of a finished document against the caption schema.
void ValidateCaptionDoc(const std::string& text) {
  json j = json::parse(text);  // throws (fails the test) if not JSON
  REQUIRE(j.is_object());
  REQUIRE(j.contains("captions"));
  REQUIRE(j.contains("tone"));
  for (const auto& [k, v] : j.items()) {
    CHECK((k == "captions" || k == "tone" || k == "count" || k == "score" || k == "ok" ||
           k == "tag"));
  }
  REQUIRE(j["captions"].is_array());
  CHECK(j["captions"].size() >= 1);
  CHECK(j["captions"].size() <= 3);
  for (const auto& c : j["captions"]) {
    REQUIRE(c.is_string());
    std::string s = c.get<std::string>();
    size_t cps = 0;
    for (unsigned char ch : s) cps += (ch & 0xC0) != 0x80;
    CHECK(cps <= 24);
  }
  std::string tone = j["tone"].get<std::string>();
  CHECK((tone == "warm" || tone == "bold" || tone == "wry"));
  for (const auto& c : j["captions"]) {
    CHECK(c.get<std::string>().find_first_of("[]{}") == std::string::npos);
  }
  if (j.contains("tag")) {
    CHECK(j["tag"].get<std::string>().find_first_of("# /") == std::string::npos);
  }
  if (j.contains("count")) CHECK(j["count"].is_number_integer());
  if (j.contains("score")) CHECK(j["score"].is_number());
  if (j.contains("ok")) CHECK(j["ok"].is_boolean());
}

TEST_CASE("random generation under the mask always yields a valid document; mask is exact") {
  Schema s = Schema::Parse(kCaptionSchema).value();
  const std::vector<std::string> vocab = TestVocab();
  TokenMasker masker = TokenMasker::Build(vocab);
  std::mt19937 rng(1234);
  std::vector<uint64_t> allowed;
  int docs = 0, steps_checked = 0;
  for (int run = 0; run < 150; ++run) {
    JsonMatcher m(&s);
    std::string out;
    for (int step = 0; step < 3000; ++step) {
      const bool eos = masker.Mask(m, &allowed);
      // Exactness: the mask equals feeding every token to a copy of the matcher.
      if (run < 20) {
        for (size_t t = 0; t < vocab.size(); ++t) {
          JsonMatcher probe = m;
          const bool alive = !vocab[t].empty() && probe.Feed(vocab[t]);
          const bool bit = (allowed[t / 64] >> (t % 64)) & 1;
          if (alive != bit) FAIL("token " << t << " '" << vocab[t] << "' after '" << out << "'");
        }
        ++steps_checked;
      }
      std::vector<size_t> choices;
      for (size_t t = 0; t < vocab.size(); ++t) {
        if ((allowed[t / 64] >> (t % 64)) & 1) choices.push_back(t);
      }
      if (eos && (choices.empty() || rng() % 4 == 0)) break;
      REQUIRE_FALSE(choices.empty());  // never a dead end
      const size_t t = choices[rng() % choices.size()];
      REQUIRE(m.Feed(vocab[t]));
      out += vocab[t];
    }
    INFO(out);
    REQUIRE(m.complete());
    ValidateCaptionDoc(out);
    ++docs;
  }
  CHECK(docs == 150);
  CHECK(steps_checked > 200);
}

}  // namespace
}  // namespace cairn::decoding
