#include "storage/vault.h"

#include <catch_amalgamated.hpp>

#include <filesystem>

#include "core/crypto/random.h"
#include "storage/key_file.h"
#include "storage/sqlite_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::Contains;
using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;

VaultOptions FastOptions() {
  VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};  // tests only: tiny Argon2id
  return o;
}

DraftInput SampleDraft(std::string caption) {
  DraftInput d;
  d.caption = std::move(caption);
  d.hashtags = {"#sunset", "#pier"};
  d.prompt = {"Write 3 captions", "photo: a wooden pier at sunset", "warm, short", "JSON array"};
  return d;
}

TEST_CASE("a vault is created, reopened with its passphrase, and refuses a wrong one") {
  TempDir dir;
  int64_t id = 0;
  {
    auto v = Vault::Create(dir.path(), "correct horse", FastOptions()).value();
    CHECK(v->schema_version() == kVaultSchemaVersion);
    id = v->CreateDraft(SampleDraft("Golden hour on the pier")).value();
  }
  auto wrong = Vault::Open(dir.path(), "correct hors", FastOptions());
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kWrongPassphrase);
  CHECK(wrong.status().message() == "wrong passphrase for the vault in " + dir.path());

  auto v = Vault::Open(dir.path(), "correct horse", FastOptions()).value();
  CHECK(v->GetDraft(id).value().content.caption == "Golden hour on the pier");
  CHECK(v->IntegrityCheck().value() == "ok");

  CHECK(Vault::Create(dir.path(), "x", FastOptions()).status().code() ==
        StatusCode::kAlreadyExists);
  TempDir empty;
  CHECK(Vault::Open(empty.path(), "x", FastOptions()).status().code() == StatusCode::kNotFound);
}

TEST_CASE("changing the passphrase re-wraps the key; the old one stops working") {
  TempDir dir;
  {
    auto v = Vault::Create(dir.path(), "old pass", FastOptions()).value();
    REQUIRE(v->CreateDraft(SampleDraft("kept across the change")).ok());
    CHECK(v->ChangePassphrase("not it", "new pass").code() == StatusCode::kWrongPassphrase);
    REQUIRE(v->ChangePassphrase("old pass", "new pass").ok());
  }
  CHECK(Vault::Open(dir.path(), "old pass", FastOptions()).status().code() ==
        StatusCode::kWrongPassphrase);
  auto v = Vault::Open(dir.path(), "new pass", FastOptions()).value();
  CHECK(v->ListDrafts(10).value().at(0).content.caption == "kept across the change");
}

TEST_CASE("a device-key vault opens only with that key") {
  TempDir dir;
  SecretBytes device = crypto::RandomSecret(32);
  { REQUIRE(Vault::CreateWithDeviceKey(dir.path(), device.view(), FastOptions()).ok()); }
  CHECK(Vault::OpenWithDeviceKey(dir.path(), crypto::RandomSecret(32).view(), FastOptions())
            .status()
            .code() == StatusCode::kWrongPassphrase);
  CHECK(Vault::Open(dir.path(), "anything", FastOptions()).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(Vault::OpenWithDeviceKey(dir.path(), device.view(), FastOptions()).ok());
}

TEST_CASE("drafts keep their version history, newest first in the list") {
  TempDir dir;
  ManualClock clock(1'700'000'000'000);
  VaultOptions o = FastOptions();
  o.clock = &clock;
  auto v = Vault::Create(dir.path(), "pw", o).value();
  int64_t a = v->CreateDraft(SampleDraft("first draft")).value();
  clock.AdvanceMillis(1000);
  int64_t b = v->CreateDraft(SampleDraft("second draft")).value();
  clock.AdvanceMillis(1000);
  DraftInput edit = SampleDraft("first draft, edited");
  edit.hashtags = {"#golden", "#hour", "#café"};
  edit.status = "ready";
  REQUIRE(v->UpdateDraft(a, edit).ok());

  Draft got = v->GetDraft(a).value();
  CHECK(got.version == 2);
  CHECK(got.content.caption == "first draft, edited");
  CHECK(got.content.hashtags == std::vector<std::string>{"#golden", "#hour", "#café"});
  CHECK(got.content.status == "ready");
  CHECK(got.created_at_ms == 1'700'000'000'000);
  CHECK(got.updated_at_ms == 1'700'000'002'000);

  auto history = v->DraftHistory(a).value();
  REQUIRE(history.size() == 1);
  CHECK(history[0].version == 1);
  CHECK(history[0].content.caption == "first draft");
  CHECK(history[0].content.prompt == SampleDraft("").prompt);

  auto list = v->ListDrafts(10).value();
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == a);  // updated last
  CHECK(list[1].id == b);

  DraftInput bad = SampleDraft("x");
  bad.status = "published";
  CHECK(v->CreateDraft(bad).status().code() == StatusCode::kInvalidArgument);
  CHECK(v->UpdateDraft(999, edit).code() == StatusCode::kNotFound);
  REQUIRE(v->DeleteDraft(b).ok());
  CHECK(v->GetDraft(b).status().code() == StatusCode::kNotFound);
  CHECK(v->DeleteDraft(b).code() == StatusCode::kNotFound);
}

TEST_CASE("search ranks caption matches first and accepts any user text") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  DraftInput in_context = SampleDraft("Morning run along the river");
  in_context.prompt.context = "photo: lighthouse in fog";
  in_context.hashtags = {"#run"};
  int64_t ctx = v->CreateDraft(in_context).value();
  DraftInput in_caption = SampleDraft("The lighthouse keeps watch tonight");
  in_caption.hashtags = {"#coast"};
  int64_t cap = v->CreateDraft(in_caption).value();
  REQUIRE(v->CreateDraft(SampleDraft("Nothing to see here")).ok());

  auto hits = v->SearchDrafts("lighthouse", 10).value();
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].draft_id == cap);
  CHECK(hits[1].draft_id == ctx);
  CHECK(hits[0].score > hits[1].score);
  CHECK_THAT(hits[0].snippet, Catch::Matchers::ContainsSubstring("[lighthouse]"));

  CHECK(v->SearchDrafts("lightho", 10).value().size() == 2);  // prefix on the last word
  CHECK(v->SearchDrafts("#coast", 10).value().at(0).draft_id == cap);
  for (const char* hostile : {"\"", "NEAR(a b", "a OR", "*", "-x", "a:b", "'; DROP TABLE drafts;--",
                              "(((", "", "   "}) {
    INFO(hostile);
    CHECK(v->SearchDrafts(hostile, 10).ok());
  }
  CHECK(v->ListDrafts(10).value().size() == 3);
}

TEST_CASE("settings, assets with provenance, models and outbox jobs round-trip") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  CHECK_FALSE(v->GetSetting("theme").value().has_value());
  REQUIRE(v->SetSetting("theme", "dark").ok());
  REQUIRE(v->SetSetting("theme", "light").ok());
  CHECK(v->GetSetting("theme").value() == std::optional<std::string>("light"));

  AssetInput a;
  a.kind = "render";
  a.mime = "image/webp";
  a.blob_hash = std::string(64, 'a');
  a.bytes = 12345;
  a.width = 1080;
  a.height = 1350;
  a.provenance = {"cairn-caption-starter", "1.0.0", std::string(64, 'c'), "int8",
                  "ort-web-wasm", "device", "preview", "cairn.prompt/1", 0xfedcba9876543210ull};
  int64_t asset = v->AddAsset(a).value();
  Asset got = v->GetAsset(asset).value();
  CHECK(got.content.provenance == a.provenance);
  CHECK(got.content.width == 1080);
  CHECK_FALSE(got.content.draft_id.has_value());
  a.kind = "video";
  CHECK(v->AddAsset(a).status().code() == StatusCode::kInvalidArgument);

  InstalledModel m{"glove-100d", "1", "{}", "PDDL-1.0", true, "installed", 4'000'000, 0};
  REQUIRE(v->PutModel(m).ok());
  CHECK(v->ListModels().value().at(0).licence_spdx == "PDDL-1.0");

  OutboxJob j1 = v->EnqueueJob("caption-hq", "final", R"({"task":"x"})").value();
  OutboxJob j2 = v->EnqueueJob("image-export", "final", "{}").value();
  CHECK(j1.state == "queued");
  CHECK(j1.idempotency_key.size() == 32);
  CHECK(j1.idempotency_key != j2.idempotency_key);
  CHECK(v->ListJobs().value().size() == 2);
  CHECK(v->EnqueueJob("caption-hq", "final", "{not json").status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(v->EnqueueJob("print", "final", "{}").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("the outbox's sync fields are updated in one write; a terminal state stays") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  OutboxJob a = v->EnqueueJob("caption-hq", "final", "{}").value();
  OutboxJob b = v->EnqueueJob("image-export", "preview", "{}").value();
  a.state = "accepted";
  a.attempts = 2;
  a.next_attempt_at_ms = 12345;
  a.server_job_id = "srv-1";
  a.cancel_requested = true;
  a.last_error = "503 busy";
  REQUIRE(v->UpdateJob(a).ok());
  OutboxJob got = v->GetJob(a.id).value();
  CHECK(got.state == "accepted");
  CHECK(got.attempts == 2);
  CHECK(got.next_attempt_at_ms == 12345);
  CHECK(got.server_job_id == "srv-1");
  CHECK(got.cancel_requested);
  CHECK(got.last_error == "503 busy");
  CHECK(got.idempotency_key == a.idempotency_key);

  b.state = "done";
  b.result_json = R"({"captions":["x"]})";
  REQUIRE(v->UpdateJob(b).ok());
  CHECK(v->GetJob(b.id).value().result_json == R"({"captions":["x"]})");
  REQUIRE(v->UpdateJob(b).ok());  // a replayed write of the same terminal state is harmless
  b.state = "failed";
  Status s = v->UpdateJob(b);
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message() == "job " + std::to_string(b.id) + " is already done; it cannot become failed");
  CHECK(v->GetJob(b.id).value().state == "done");

  std::vector<OutboxJob> open = v->ListUnfinishedJobs().value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].id == a.id);

  a.state = "exploded";
  CHECK(v->UpdateJob(a).code() == StatusCode::kInvalidArgument);
  OutboxJob ghost;
  ghost.id = 999;
  ghost.state = "queued";
  CHECK(v->UpdateJob(ghost).code() == StatusCode::kNotFound);
}

TEST_CASE("migrations bring every older schema to the current one, keeping data") {
  for (int from = 1; from < kVaultSchemaVersion; ++from) {
    DYNAMIC_SECTION("from schema version " << from) {
      TempDir dir;
      VaultOptions old = FastOptions();
      old.max_schema_version = from;
      int64_t id = 0;
      {
        auto v = Vault::Create(dir.path(), "pw", old).value();
        CHECK(v->schema_version() == from);
        id = v->CreateDraft(SampleDraft("written by an older Cairn about lanterns")).value();
      }
      auto v = Vault::Open(dir.path(), "pw", FastOptions()).value();
      CHECK(v->schema_version() == kVaultSchemaVersion);
      CHECK(v->GetDraft(id).value().content.caption ==
            "written by an older Cairn about lanterns");
      // Search indexes drafts written before the index existed.
      REQUIRE(v->SearchDrafts("lanterns", 5).value().size() == 1);
      CHECK(v->EnqueueJob("caption-hq", "low", "{}").ok());
      CHECK(v->IntegrityCheck().value() == "ok");
    }
  }
}

TEST_CASE("assets: details, newest-first lists by kind, found by blob") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  AssetInput photo;
  photo.kind = "photo";
  photo.mime = "image/png";
  photo.blob_hash = std::string(64, '1');
  photo.details = R"({"tags":["dog"],"safety":{"unsafe":false}})";
  const int64_t p = v->AddAsset(photo).value();
  AssetInput render = photo;
  render.kind = "render";
  render.mime = "image/jpeg";
  render.blob_hash = std::string(64, '2');
  render.details = R"({"job":7,"rendition":"1080x1080"})";
  render.provenance.model_id = "cairn-server image-export/1";
  const int64_t r1 = v->AddAsset(render).value();
  render.blob_hash = std::string(64, '3');
  const int64_t r2 = v->AddAsset(render).value();

  CHECK(v->GetAsset(p).value().content.details == R"({"safety":{"unsafe":false},"tags":["dog"]})");
  std::vector<Asset> renders = v->ListAssets("render", 10).value();
  REQUIRE(renders.size() == 2);
  CHECK(renders[0].id == r2);  // newest first
  CHECK(renders[1].id == r1);
  CHECK(renders[1].content.provenance.model_id == "cairn-server image-export/1");
  CHECK(v->ListAssets("", 10).value().size() == 3);
  CHECK(v->ListAssets("render", 1, 1).value().at(0).id == r1);
  CHECK(v->FindAsset("render", std::string(64, '2')).value()->id == r1);
  CHECK_FALSE(v->FindAsset("photo", std::string(64, '2')).value().has_value());
  CHECK(v->GetAsset(r1).value().content.details == R"({"job":7,"rendition":"1080x1080"})");

  AssetInput bad = photo;
  bad.details = "[1,2]";
  CHECK(v->AddAsset(bad).status().code() == StatusCode::kInvalidArgument);
  bad.details = "{not json";
  CHECK(v->AddAsset(bad).status().code() == StatusCode::kInvalidArgument);
  CHECK(v->ListAssets("", 10).value().size() == 3);  // nothing written for a refused one
}

TEST_CASE("schema 10: an outbox job and asset from schema 8 keep their data and gain defaults") {
  TempDir dir;
  VaultOptions old = FastOptions();
  old.max_schema_version = 8;
  int64_t job = 0, asset = 0;
  {
    auto v = Vault::Create(dir.path(), "pw", old).value();
    REQUIRE(Exec(v->db(), "INSERT INTO outbox_jobs (idempotency_key, kind, preset, payload, "
                          "state, created_at, updated_at) VALUES ('k0123456789abcdef', "
                          "'image-export', 'final', '{\"source\":\"x\"}', 'queued', 1, 1)").ok());
    job = sqlite3_last_insert_rowid(v->db());
    REQUIRE(Exec(v->db(), "INSERT INTO assets (kind, mime, blob_hash, bytes, width, height, "
                          "model_id, model_version, model_checksum, quantization, backend, tier, "
                          "preset, created_at) VALUES ('photo', 'image/png', 'h', 1, 1, 1, '', '', "
                          "'', '', '', '', '', 5)").ok());
    asset = sqlite3_last_insert_rowid(v->db());
  }
  auto v = Vault::Open(dir.path(), "pw", FastOptions()).value();
  CHECK(v->schema_version() == kVaultSchemaVersion);
  OutboxJob j = v->GetJob(job).value();
  CHECK(j.payload_json == R"({"source":"x"})");
  CHECK_FALSE(j.source_uploaded);
  CHECK(j.resubmits == 0);
  j.source_uploaded = true;
  j.resubmits = 2;
  REQUIRE(v->UpdateJob(j).ok());
  CHECK(v->GetJob(job).value().source_uploaded);
  CHECK(v->GetJob(job).value().resubmits == 2);
  CHECK(v->GetAsset(asset).value().content.details == "{}");
}

TEST_CASE("schema 11: assets from schema 10 keep their data; a render gains its job") {
  TempDir dir;
  VaultOptions old = FastOptions();
  old.max_schema_version = 10;
  int64_t job = 0, render = 0, photo = 0, orphan = 0;
  {
    auto v = Vault::Create(dir.path(), "pw", old).value();
    job = v->EnqueueJob("image-export", "final", "{}").value().id;
    // Rows as schema 10 wrote them (this build's AddAsset writes schema 11's columns).
    auto add = [&](const std::string& kind, const std::string& details) {
      REQUIRE(Exec(v->db(), "INSERT INTO assets (kind, mime, blob_hash, bytes, width, height, "
                            "model_id, model_version, model_checksum, quantization, backend, "
                            "tier, preset, created_at, seed, details) VALUES ('" + kind +
                            "', 'image/jpeg', '" + std::string(64, 'b') + "', 1, 1, 1, "
                            "'cairn-server image-export/1', '', '', '', '', '', '', 5, " +
                            std::to_string(static_cast<int64_t>(0xfedcba9876543210ull)) +
                            ", '" + details + "')").ok());
      return sqlite3_last_insert_rowid(v->db());
    };
    render = add("render", R"({"job":)" + std::to_string(job) + R"(,"rendition":"1080x1080"})");
    orphan = add("render", R"({"job":999,"rendition":"1080x1350"})");  // a job long gone
    photo = add("photo", R"({"job":)" + std::to_string(job) + "}");  // only a render's maker
    CHECK(Exec(v->db(), "INSERT INTO assets (kind, mime, blob_hash, bytes, width, height, "
                        "model_id, model_version, model_checksum, quantization, backend, tier, "
                        "preset, created_at) VALUES ('caption-hq', 'application/json', 'h', 1, "
                        "0, 0, '', '', '', '', '', '', '', 5)")
              .code() == StatusCode::kInvalidArgument);  // schema 10 has no such kind
  }
  auto v = Vault::Open(dir.path(), "pw", FastOptions()).value();
  CHECK(v->schema_version() == 11);
  Asset r = v->GetAsset(render).value();
  CHECK(r.content.job_id == std::optional<int64_t>(job));
  CHECK(r.content.provenance.model_id == "cairn-server image-export/1");
  CHECK(r.content.provenance.seed == 0xfedcba9876543210ull);
  CHECK(r.content.details == R"({"job":)" + std::to_string(job) + R"(,"rendition":"1080x1080"})");
  CHECK_FALSE(v->GetAsset(orphan).value().content.job_id.has_value());
  CHECK_FALSE(v->GetAsset(photo).value().content.job_id.has_value());
  CHECK(v->ListAssets("", 10).value().size() == 3);
  CHECK(v->FindJobAsset("render", job).value()->id == render);
  CHECK(v->IntegrityCheck().value() == "ok");
}

TEST_CASE("caption-hq assets: one per job, found by job; deleted assets leave blobs to GC") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const int64_t draft = v->CreateDraft(SampleDraft("a pier")).value();
  const int64_t job = v->EnqueueJob("caption-hq", "final", R"({"task":"t"})", draft).value().id;
  const std::string result = R"({"captions":[{"text":"<b>hi</b>"}]})";
  AssetInput a;
  a.kind = "caption-hq";
  a.mime = "application/json";
  a.blob_hash = v->PutBlob(AsBytes(result)).value();
  a.bytes = static_cast<int64_t>(result.size());
  a.draft_id = draft;
  a.provenance = {"cairn-caption-starter", "1.0.0", std::string(64, 'c'), "fp32",
                  "ort-native-cpu", "cloud", "final", "cairn.prompt/1", 7};
  AssetInput no_job = a;
  CHECK(v->AddAsset(no_job).status().code() == StatusCode::kInvalidArgument);
  a.job_id = job;
  const int64_t id = v->AddAsset(a).value();
  Status again = v->AddAsset(a).status();
  CHECK(again.code() == StatusCode::kAlreadyExists);
  CHECK_THAT(again.message(), Catch::Matchers::ContainsSubstring("job " + std::to_string(job)));
  Asset got = v->FindJobAsset("caption-hq", job).value().value();
  CHECK(got.id == id);
  CHECK(got.content.draft_id == std::optional<int64_t>(draft));
  CHECK(got.content.provenance == a.provenance);
  CHECK_FALSE(v->FindJobAsset("caption-hq", job + 1).value().has_value());
  CHECK_FALSE(v->FindJobAsset("render", job).value().has_value());

  // A photo sharing no blob, and a render sharing the caption's blob (content addressing).
  AssetInput photo;
  photo.kind = "photo";
  photo.mime = "image/png";
  photo.blob_hash = v->PutBlob(AsBytes(std::string("\x89PNG photo"))).value();
  const int64_t p = v->AddAsset(photo).value();
  AssetInput twin = a;
  twin.kind = "render";
  twin.job_id.reset();
  const int64_t t = v->AddAsset(twin).value();

  REQUIRE(v->DeleteAsset(id).ok());
  CHECK(v->DeleteAsset(id).code() == StatusCode::kNotFound);
  CHECK(v->GetAsset(id).status().code() == StatusCode::kNotFound);
  CHECK(v->CollectGarbage().value() == 0);  // the render still holds the blob
  CHECK(v->ReadBlob(a.blob_hash).ok());
  REQUIRE(v->DeleteAsset(t).ok());
  REQUIRE(v->DeleteAsset(p).ok());
  CHECK(v->CollectGarbage().value() == 2);
  CHECK(v->ReadBlob(a.blob_hash).status().code() == StatusCode::kNotFound);
  CHECK(v->ListAssets("", 10).value().empty());
  // With its asset gone, the job may have one again (its result saved after a deletion).
  CHECK(v->PutBlob(AsBytes(result)).value() == a.blob_hash);
  CHECK(v->AddAsset(a).ok());
}

TEST_CASE("a vault from a newer Cairn is refused, not damaged") {
  TempDir dir;
  {
    auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
    REQUIRE(Exec(v->db(), "PRAGMA user_version=99").ok());
  }
  auto v = Vault::Open(dir.path(), "pw", FastOptions());
  CHECK(v.status().code() == StatusCode::kUnsupported);
  CHECK_THAT(v.status().message(), Catch::Matchers::ContainsSubstring("update Cairn"));
}

TEST_CASE("readers see committed data while a writer's transaction is open") {
  TempDir dir;
  auto writer = Vault::Create(dir.path(), "pw", FastOptions()).value();
  REQUIRE(writer->CreateDraft(SampleDraft("committed before")).ok());
  auto reader = Vault::Open(dir.path(), "pw", FastOptions()).value();

  REQUIRE(Exec(writer->db(), "BEGIN IMMEDIATE").ok());
  REQUIRE(Exec(writer->db(),
               "INSERT INTO drafts (caption, hashtags, task, context, style, output_format, "
               "status, version, created_at, updated_at) VALUES "
               "('uncommitted', '[]', '', '', '', '', 'draft', 1, 0, 0)")
              .ok());
  for (int i = 0; i < 5; ++i) {
    auto seen = reader->ListDrafts(10).value();  // not blocked by the writer
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].content.caption == "committed before");
  }
  REQUIRE(Exec(writer->db(), "COMMIT").ok());
  CHECK(reader->ListDrafts(10).value().size() == 2);
}

TEST_CASE("no plaintext in any vault file, and a damaged key file is named") {
  TempDir dir;
  const std::string secret_caption = "UNPUBLISHED-CAPTION-91c2 about a secret launch";
  {
    auto v = Vault::Create(dir.path(), "my passphrase", FastOptions()).value();
    for (int i = 0; i < 50; ++i) REQUIRE(v->CreateDraft(SampleDraft(secret_caption)).ok());
    REQUIRE(v->SetSetting("api-token", "TOKEN-SETTING-55aa").ok());
    REQUIRE(v->SearchDrafts("secret", 5).ok());
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      Bytes raw = ReadFileBytes(e.path().string());
      INFO(e.path().string());
      CHECK_FALSE(Contains(raw, "UNPUBLISHED-CAPTION"));
      CHECK_FALSE(Contains(raw, "TOKEN-SETTING"));
      CHECK_FALSE(Contains(raw, "my passphrase"));
      CHECK_FALSE(Contains(raw, "sunset"));
      ++files;
    }
    CHECK(files >= 3);  // key, database, WAL
  }
  // Both key slots damaged: a clear error naming the file.
  Bytes key = ReadFileBytes(VaultKeyPath(dir.path()));
  for (size_t i = 0; i < key.size(); i += 97) key[i] ^= 0xff;
  cairn::testing::WriteFileBytes(VaultKeyPath(dir.path()), key);
  auto v = Vault::Open(dir.path(), "my passphrase", FastOptions());
  CHECK(v.status().code() == StatusCode::kCorruption);
  CHECK_THAT(v.status().message(), Catch::Matchers::ContainsSubstring("vault.key"));
}

}  // namespace
}  // namespace cairn::storage
