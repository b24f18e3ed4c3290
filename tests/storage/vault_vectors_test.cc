// Draft vectors (schema 8): what needs embedding, storage, staleness, migration from every
// older schema, encryption at rest, and search fused from full text and meaning.
#include <catch_amalgamated.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "storage/vault.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;

constexpr char kModel[] = "cairn-test-embed";

VaultOptions FastOptions() {
  VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};  // tests only: tiny Argon2id
  return o;
}

DraftInput Draft(std::string caption, std::vector<std::string> tags = {}) {
  DraftInput d;
  d.caption = std::move(caption);
  d.hashtags = std::move(tags);
  d.prompt = {"Write captions", "", "", ""};
  return d;
}

std::vector<float> Unit(std::vector<float> v) {
  float n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x /= std::sqrt(n);
  return v;
}

std::vector<int64_t> PendingIds(Vault& v) {
  std::vector<int64_t> ids;
  for (const DraftText& t : v.DraftsToEmbed(kModel, 100).value()) ids.push_back(t.draft_id);
  return ids;
}

TEST_CASE("draft vectors: pending until stored, again when the text changes, not on status") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const int64_t a = v->CreateDraft(Draft("Beach sunset", {"#sea"})).value();
  const int64_t b = v->CreateDraft(Draft("City rain")).value();
  auto pending = v->DraftsToEmbed(kModel, 100).value();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].draft_id == a);
  CHECK(pending[0].version == 1);
  CHECK(pending[0].text == "Beach sunset\n#sea \n");
  CHECK(v->DraftsToEmbed(kModel, 1).value().size() == 1);  // the limit

  const std::vector<float> va = Unit({1, 2, 3});
  REQUIRE(v->PutDraftVector(a, 1, kModel, va).ok());
  CHECK(PendingIds(*v) == std::vector<int64_t>{b});
  CHECK(v->GetDraftVector(a, kModel).value() == va);
  CHECK_FALSE(v->GetDraftVector(b, kModel).value().has_value());
  CHECK(v->DraftsToEmbed("another-model", 100).value().size() == 2);  // per model

  // A status change makes a new version with the same text: the vector stays current.
  DraftInput ready = Draft("Beach sunset", {"#sea"});
  ready.status = "ready";
  REQUIRE(v->UpdateDraft(a, ready).ok());
  CHECK(PendingIds(*v) == std::vector<int64_t>{b});
  CHECK(v->PutDraftVector(a, 2, kModel, va).ok());  // version 2 is the current one now

  // New text: pending again, and a vector of the old version is refused.
  REQUIRE(v->UpdateDraft(a, Draft("Beach sunset, then a storm", {"#sea"})).ok());
  CHECK(PendingIds(*v) == std::vector<int64_t>{a, b});
  CHECK(v->PutDraftVector(a, 2, kModel, va).code() == StatusCode::kFailedPrecondition);
  REQUIRE(v->PutDraftVector(a, 3, kModel, Unit({3, 2, 1})).ok());
  CHECK(PendingIds(*v) == std::vector<int64_t>{b});

  // Bad input is refused and names the draft; a deleted draft takes its vector with it.
  const float nan = std::nanf("");
  CHECK(v->PutDraftVector(b, 1, kModel, std::vector<float>{1, nan}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(v->PutDraftVector(b, 1, kModel, std::vector<float>{}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(v->PutDraftVector(999, 1, kModel, va).code() == StatusCode::kNotFound);
  REQUIRE(v->DeleteDraft(a).ok());
  CHECK_FALSE(v->GetDraftVector(a, kModel).value().has_value());
  CHECK(v->IntegrityCheck().value() == "ok");
}

TEST_CASE("draft vectors: drafts from every older schema get vectors lazily") {
  for (int from = 1; from < kVaultSchemaVersion; ++from) {
    DYNAMIC_SECTION("from schema version " << from) {
      TempDir dir;
      VaultOptions old = FastOptions();
      old.max_schema_version = from;
      int64_t id = 0;
      {
        auto v = Vault::Create(dir.path(), "pw", old).value();
        id = v->CreateDraft(Draft("written before vectors about lanterns")).value();
      }
      auto v = Vault::Open(dir.path(), "pw", FastOptions()).value();
      REQUIRE(v->schema_version() == kVaultSchemaVersion);
      CHECK(PendingIds(*v) == std::vector<int64_t>{id});
      REQUIRE(v->PutDraftVector(id, 1, kModel, Unit({1, 1})).ok());
      CHECK(PendingIds(*v).empty());
      auto hits = v->SearchDraftsHybrid("glowing lamps", Unit({1, 0.9f}), kModel, 5).value();
      REQUIRE(hits.size() == 1);
      CHECK(hits[0].draft_id == id);
      CHECK(hits[0].match == "meaning");
      CHECK(v->IntegrityCheck().value() == "ok");
    }
  }
}

TEST_CASE("draft vectors are encrypted at rest like every record") {
  TempDir dir;
  // A vector whose bytes are easy to find in a file: the same float, 64 times.
  const std::vector<float> marker(64, 1234.5678f);
  Bytes needle(marker.size() * sizeof(float));
  std::memcpy(needle.data(), marker.data(), needle.size());
  const std::string needle_text(needle.begin(), needle.begin() + 32);
  {
    auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
    const int64_t id = v->CreateDraft(Draft("secret")).value();
    REQUIRE(v->PutDraftVector(id, 1, kModel, marker).ok());
    CHECK(v->GetDraftVector(id, kModel).value() == marker);
  }
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    CHECK_FALSE(cairn::testing::Contains(ReadFileBytes(e.path().string()), needle_text));
  }
  CHECK(files >= 2);
}

TEST_CASE("hybrid search: meaning finds what full text misses; both beats one") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  // Axes: sea, evening, city, paperwork.
  const int64_t beach = v->CreateDraft(Draft("Beach sunset with friends", {"#summer"})).value();
  const int64_t tax = v->CreateDraft(Draft("Quarterly tax filing done")).value();
  const int64_t city = v->CreateDraft(Draft("Rainy city night at the waves bar")).value();
  REQUIRE(v->PutDraftVector(beach, 1, kModel, Unit({3, 2, 0, 0})).ok());
  REQUIRE(v->PutDraftVector(tax, 1, kModel, Unit({0, 0, 0.3f, 3})).ok());
  REQUIRE(v->PutDraftVector(city, 1, kModel, Unit({0.2f, 1, 3, 0})).ok());
  const std::vector<float> ocean_waves_at_dusk = Unit({2.8f, 1.7f, 0.1f, 0});

  // Full text alone: no draft has all of "ocean waves at dusk".
  CHECK(v->SearchDrafts("ocean waves at dusk", 10).value().empty());
  auto hits = v->SearchDraftsHybrid("ocean waves at dusk", ocean_waves_at_dusk, kModel, 10).value();
  REQUIRE(hits.size() == 1);  // city (cosine ~0.4 - below) and tax are not matches
  CHECK(hits[0].draft_id == beach);
  CHECK(hits[0].match == "meaning");
  CHECK(hits[0].snippet == "Beach sunset with friends");

  // "waves": the city draft by its words, the beach draft by meaning, each first in its
  // ranking; with a query vector near both, the one found both ways comes first.
  auto one_each = v->SearchDraftsHybrid("waves", Unit({3, 0.5f, 0.6f, 0}), kModel, 10).value();
  REQUIRE(one_each.size() == 2);
  for (const SearchHit& h : one_each) {
    CHECK(h.match == (h.draft_id == beach ? "meaning" : "text"));
    CHECK(h.score == Catch::Approx(0.5));  // first in one of two rankings
  }
  auto sea_city = v->SearchDraftsHybrid("waves", Unit({1, 0.5f, 1.5f, 0}), kModel, 10).value();
  REQUIRE(sea_city.size() == 2);
  CHECK(sea_city[0].draft_id == city);
  CHECK(sea_city[0].match == "both");

  // No vector (no embedding model installed): full text only, as before.
  auto text_only = v->SearchDraftsHybrid("tax", {}, kModel, 10).value();
  REQUIRE(text_only.size() == 1);
  CHECK(text_only[0].draft_id == tax);
  CHECK(text_only[0].match == "text");
  // A vector from another model (other dimensions) is never compared.
  CHECK(v->SearchDraftsHybrid("ocean", Unit({1, 0, 0}), kModel, 10).value().empty());
}

}  // namespace
}  // namespace cairn::storage
