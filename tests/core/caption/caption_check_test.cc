#include "core/caption/caption_check.h"

#include <catch_amalgamated.hpp>

namespace cairn::caption {
namespace {

TEST_CASE("captions are parsed from either shape and checked against every constraint") {
  Constraints c;
  c.count = 3;
  c.max_chars = 30;
  c.emoji_required = true;
  c.max_hashtags = 2;
  c.banned = {"Acme Cola", "cheap"};
  auto r = ParseCaptions(
               "{\"captions\": [\"Golden hour \xF0\x9F\x8C\x85 #sunset\", "
               "\"No emoji here at all\", \"Cheap thrills \xE2\x9C\xA8\", "
               "\"acme cola \xF0\x9F\x8C\x85 #a #b #c\", \"This one is far too long to fit \xF0\x9F\x98\x80\"]}",
               c)
               .value();
  REQUIRE(r.captions.size() == 5);
  CHECK(r.captions[0].ok());
  CHECK(r.captions[1].problems == std::vector<std::string>{"no emoji"});
  CHECK(r.captions[2].problems == std::vector<std::string>{"uses \"cheap\""});
  CHECK(r.captions[3].problems ==
        std::vector<std::string>{"3 hashtags (limit 2)", "uses \"Acme Cola\""});
  CHECK(r.captions[4].problems.at(0) == "too long: 33 characters (limit 30)");
  CHECK(r.problems == std::vector<std::string>{"5 captions, 3 were asked for"});

  auto bare = ParseCaptions(R"(["one", "two", "three"])", Constraints{}).value();
  CHECK(bare.problems.empty());
  CHECK(bare.captions.at(2).text == "three");
}

TEST_CASE("banned words match whole words only, in any case") {
  Constraints c;
  c.count = 2;
  c.banned = {"ham"};
  auto r = ParseCaptions(R"(["Shampoo day", "HAM and eggs"])", c).value();
  CHECK(r.captions[0].ok());
  CHECK_FALSE(r.captions[1].ok());
}

TEST_CASE("hostile model output is data: rejected or cleaned, never trusted") {
  CHECK(ParseCaptions("{\"captions\": [\"trunc", Constraints{}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(ParseCaptions("not json <script>", Constraints{}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(ParseCaptions(R"({"caps": []})", Constraints{}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(ParseCaptions("[\"\xff\xfe\"]", Constraints{}).status().code() ==
        StatusCode::kInvalidArgument);  // invalid UTF-8
  auto r = ParseCaptions(R"(["<img src=x onerror=alert(1)>\u0007\u001b[2J", 5, "ok"])",
                         Constraints{}).value();
  // Markup stays as literal text (the UI renders text, never HTML); control bytes are gone.
  CHECK(r.captions.at(0).text == "<img src=x onerror=alert(1)>[2J");
  CHECK(r.problems.at(0) == "item 1 is not text");
}

TEST_CASE("emoji, code points and hashtags") {
  CHECK(ContainsEmoji("ok \xE2\x9D\xA4"));  // ❤
  CHECK_FALSE(ContainsEmoji("plain caf\xC3\xA9"));
  CHECK(CountCodePoints("caf\xC3\xA9 \xF0\x9F\x8C\x85") == 6);
  CHECK(Hashtags("#sun #sea_side #\xE6\x97\xA5\xE6\x9C\xAC # x#y") ==
        std::vector<std::string>{"#sun", "#sea_side", "#\xE6\x97\xA5\xE6\x9C\xAC", "#y"});
}

}  // namespace
}  // namespace cairn::caption
