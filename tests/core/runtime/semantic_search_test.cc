// Semantic draft search end to end on native ONNX Runtime: the tiny-topics test pack
// (models/recipe/tiny_embeddings.py: hand-placed topic vectors, function words long and alike
// as GloVe's are) embeds drafts and queries by their content words, the vault stores the
// vectors and fuses search by meaning with full-text search.
#include <catch_amalgamated.hpp>

#include "core/runtime/ort_text_embedder.h"
#include "core/search/hashtags.h"
#include "core/tokenizer/words.h"
#include "storage/vault.h"
#include "tests/support/test_packs.h"

namespace cairn::runtime {
namespace {

using testing::MakeSignedPack;
using testing::TempDir;

constexpr char kModel[] = "cairn-test-tiny-topics";

// What the app embeds: the text's content words (WordVocab::EncodeContent). The embedder takes
// text, so the content words are joined back (each is a vocabulary word: the same ids).
std::vector<float> EmbedContent(const OrtTextEmbedder& e, std::string_view text) {
  std::string words;
  for (int64_t id : e.vocab().EncodeContent(text)) words += std::string(e.vocab().Word(id)) + " ";
  return e.Embed(words).value();
}

storage::VaultOptions FastOptions() {
  storage::VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

TEST_CASE("semantic search: 'ocean waves at dusk' finds the beach sunset draft FTS misses") {
  TempDir dir;
  auto sp = MakeSignedPack(dir, "tiny-topics");
  LoadedPack pack = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").value();
  auto embedder = OrtTextEmbedder::Load(pack).value();
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();

  auto draft = [&](std::string caption) {
    storage::DraftInput d;
    d.caption = std::move(caption);
    return vault->CreateDraft(d).value();
  };
  const int64_t beach = draft("Beach sunset with friends");
  const int64_t tax = draft("Quarterly tax filing was due for the year at the office");
  const int64_t city = draft("Rainy city night at the street cafe");
  // The host's loop: embed what the vault says needs it, store it.
  for (const storage::DraftText& t : vault->DraftsToEmbed(kModel, 100).value()) {
    REQUIRE(vault->PutDraftVector(t.draft_id, t.version, kModel, EmbedContent(*embedder, t.text))
                .ok());
  }
  CHECK(vault->DraftsToEmbed(kModel, 100).value().empty());

  const std::string query = "ocean waves at dusk";
  CHECK(vault->SearchDrafts(query, 10).value().empty());  // no draft has these words
  const std::vector<float> q = EmbedContent(*embedder, query);
  auto hits = vault->SearchDraftsHybrid(query, q, kModel, 10).value();
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].draft_id == beach);
  CHECK(hits[0].match == "meaning");

  // Why the stopwords go: with them, the plain mean is pulled towards what "at", "the" and
  // "for" share, and the tax and city drafts pass the similarity floor too.
  const std::vector<float> q_all = embedder->Embed(query).value();
  const float tax_all = Dot(q_all, embedder->Embed("Quarterly tax filing was due for the year at the office").value());
  const float city_all = Dot(q_all, embedder->Embed("Rainy city night at the street cafe").value());
  CHECK(tax_all > storage::kSemanticFloor);
  CHECK(city_all > storage::kSemanticFloor);
  const auto tax_vec = vault->GetDraftVector(tax, kModel).value().value();
  const auto city_vec = vault->GetDraftVector(city, kModel).value().value();
  CHECK(Dot(q, tax_vec) < 0.2f);
  CHECK(Dot(q, city_vec) < 0.2f);
}

TEST_CASE("hashtag suggestions on the tiny-topics pack: nearest words the caption lacks") {
  TempDir dir;
  auto sp = MakeSignedPack(dir, "tiny-topics");
  LoadedPack pack = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").value();
  auto embedder = OrtTextEmbedder::Load(pack).value();
  const tokenizer::WordVocab& vocab = embedder->vocab();
  search::HashtagBank bank(vocab, 1000);
  std::vector<float> rows;
  for (int64_t id : bank.ids()) {
    std::vector<float> v = embedder->Embed(vocab.Word(id)).value();
    rows.insert(rows.end(), v.begin(), v.end());
  }
  REQUIRE(bank.SetVectors(rows, static_cast<size_t>(embedder->dimensions())).ok());
  const std::string caption = "My dog on the beach at sunset";
  auto got = bank.Suggest(vocab, caption, EmbedContent(*embedder, caption), 5).value();
  REQUIRE(got.size() == 5);
  for (const search::Suggestion& s : got) {
    INFO(s.hashtag);
    CHECK(s.hashtag != "#beach");  // the caption has it
    CHECK(s.hashtag != "#tax");
    CHECK(s.score >= search::kHashtagFloor);
  }
  // Sea words lead (the caption is mostly about the beach).
  CHECK((got[0].hashtag == "#sand" || got[0].hashtag == "#waves" || got[0].hashtag == "#sea"));
}

}  // namespace
}  // namespace cairn::runtime
