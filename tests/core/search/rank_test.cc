// Ranking for semantic search and hashtags (core/search), and cairn-words/1's content words.
#include "core/search/rank.h"

#include <catch_amalgamated.hpp>

#include "core/search/hashtags.h"
#include "core/tokenizer/words.h"

namespace cairn::search {
namespace {

std::vector<int64_t> Ids(const std::vector<Scored>& v) {
  std::vector<int64_t> out;
  for (const Scored& s : v) out.push_back(s.id);
  return out;
}

TEST_CASE("nearest by cosine: best first, floor, limit, zero and mismatched vectors") {
  const std::vector<float> q = {1, 0, 0};
  const std::vector<float> a = {0.6f, 0.8f, 0}, b = {1, 0, 0}, c = {0, 1, 0}, z = {0, 0, 0},
                           other = {1, 0};
  std::vector<Candidate> cands = {{1, a}, {2, b}, {3, c}, {4, z}, {5, other}};
  CHECK(Ids(NearestByCosine(q, cands, 0.5, 10)) == std::vector<int64_t>{2, 1});
  CHECK(Ids(NearestByCosine(q, cands, -1, 10)) == std::vector<int64_t>{2, 1, 3, 4});
  CHECK(Ids(NearestByCosine(q, cands, -1, 1)) == std::vector<int64_t>{2});
  CHECK(NearestByCosine(z, cands, -1, 10).empty());  // a text with no known word
  // Ties go to the lower id, whatever the input order.
  std::vector<Candidate> tied = {{9, b}, {7, b}};
  CHECK(Ids(NearestByCosine(q, tied, 0, 10)) == std::vector<int64_t>{7, 9});
}

TEST_CASE("reciprocal-rank fusion: found by both beats found by one; normalized to 1") {
  auto fused = FuseReciprocalRank({{10, 20, 30}, {20, 40}}, 10);
  REQUIRE(fused.size() == 4);
  CHECK(fused[0].id == 20);  // second and first
  CHECK(fused[1].id == 10);  // first in one ranking only
  CHECK(fused[2].id == 40);  // second in one
  CHECK(fused[3].id == 30);  // third in one
  CHECK(fused[0].score < 1.0);
  auto top = FuseReciprocalRank({{5}, {5}}, 10);
  CHECK(top[0].score == Catch::Approx(1.0));
  CHECK(FuseReciprocalRank({{1, 2, 3}}, 2).size() == 2);
  CHECK(FuseReciprocalRank({{}, {}}, 5).empty());
}

TEST_CASE("content words: stopwords dropped unless nothing else is known") {
  auto vocab =
      tokenizer::WordVocab::Parse("<pad>\nthe\nat\nocean\nwaves\ndusk\nbeach\n").value();
  CHECK(vocab.Encode("Ocean waves at dusk") == std::vector<int64_t>{3, 4, 2, 5});
  CHECK(vocab.EncodeContent("Ocean waves at dusk") == std::vector<int64_t>{3, 4, 5});
  CHECK(vocab.EncodeContent("at the") == std::vector<int64_t>{2, 1});
  CHECK(vocab.EncodeContent("nothing known").empty());
  CHECK(vocab.Word(3) == "ocean");
  CHECK(vocab.Word(0).empty());
  CHECK(vocab.Word(99).empty());
  CHECK(tokenizer::IsStopword("the"));
  CHECK(tokenizer::IsStopword("yourselves"));
  CHECK_FALSE(tokenizer::IsStopword("beach"));
}

TEST_CASE("hashtag bank: candidates, nearest words, words the text has are left out") {
  auto vocab =
      tokenizer::WordVocab::Parse("<pad>\nthe\nsea\n2024\nsunset\nok\ncity\nbeach\n").value();
  HashtagBank bank(vocab, 3);
  // "the" is a stopword, "2024" has no letter, "ok" is too short; at most 3.
  CHECK(bank.ids() == std::vector<int64_t>{2, 4, 6});
  CHECK(bank.Suggest(vocab, "x", std::vector<float>{1, 0}, 5).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(bank.SetVectors(std::vector<float>{1, 0}, 2).code() == StatusCode::kInvalidArgument);
  // sea, sunset, city.
  REQUIRE(bank.SetVectors(std::vector<float>{1, 0, 0.8f, 0.6f, 0, 1}, 2).ok());
  const std::vector<float> q = {1, 0};
  auto got = bank.Suggest(vocab, "a day out", q, 5).value();
  REQUIRE(got.size() == 2);  // city is orthogonal: under the floor
  CHECK(got[0].hashtag == "#sea");
  CHECK(got[1].hashtag == "#sunset");
  CHECK(got[1].score == Catch::Approx(0.8));
  // A word the caption already has (as a word or a hashtag) is not offered again.
  auto fresh = bank.Suggest(vocab, "Out at #SEA", q, 5).value();
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].hashtag == "#sunset");
  CHECK(bank.Suggest(vocab, "x", std::vector<float>{1, 0, 0}, 5).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::search
